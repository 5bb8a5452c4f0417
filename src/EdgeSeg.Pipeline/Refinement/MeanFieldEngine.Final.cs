using System.Numerics;
using System.Runtime.CompilerServices;

namespace EdgeSeg.Pipeline.Refinement;

/// <summary>
/// The last mean-field update, at full resolution, in two passes. The grid pass updates the pixels
/// of the working grid (real pixels, so their labels are the full-resolution ones) and keeps those
/// whose best score leads by at least the copy margin. The pixel pass then takes every other pixel:
/// one whose four surrounding grid pixels share a kept label and whose colour is within the copy
/// tolerance of all four takes that label without its own update (see
/// <see cref="CrfOptions.CopyMargin"/>), the others are updated.
/// </summary>
internal sealed unsafe partial class MeanFieldEngine
{
    /// <summary>Copying needs labels only: with probabilities asked for every pixel is updated.</summary>
    private bool CopiesLabels => _probabilities == null && _copyMargin > 0f;

    /// <summary>
    /// The grid pass over grid rows [start, end): labels of the grid pixels, and in
    /// <c>_gridLabel</c> each one's label where it leads by at least the copy margin, else −1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void FinalGridRows(int part, int start, int end)
    {
        var scratch = stackalloc float[3 * _stride];
        fixed (int* ids = _lattice.PixelVertices)
        fixed (float* weights = _lattice.PixelWeights)
        {
            var update = new PixelUpdate(this, part, ids, weights, scratch);
            var keep = CopiesLabels;
            var gridLabel = _gridLabel.Pointer;
            var active = _activeClasses.Pointer;
            for (var gy = start; gy < end; gy++)
            {
                var y = gy * _step;
                update.PrepareRow(y, gy, Math.Min(gy + 1, _gridHeight - 1));
                for (var gx = 0; gx < _gridWidth; gx++)
                {
                    // A grid pixel sits on grid column gx (ox = 0).
                    var x = gx * _step;
                    var p = (y * _width) + x;
                    var best = update.Pixel(x, p, gx, Math.Min(gx + 1, _gridWidth - 1), 0, out var bestScore);
                    gridLabel[(gy * _gridWidth) + gx] = keep && SecondBest(update.Scores, _stride, best) <= bestScore - _copyMargin ? best : -1;
                    _labels[p] = (byte)active[best];
                }
            }
        }
    }

    /// <summary>
    /// The pixel pass over frame rows [start, end): every pixel not on the grid copied from its
    /// cell's grid pixels or updated. A chunk covers whole grid cells, so its cells are prepared once.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void FinalPixelRows(int part, int start, int end)
    {
        var scratch = stackalloc float[3 * _stride];
        fixed (int* ids = _lattice.PixelVertices)
        fixed (float* weights = _lattice.PixelWeights)
        {
            var update = new PixelUpdate(this, part, ids, weights, scratch);
            var copy = CopiesLabels;
            var tolerance = _copyTolerance;
            var cells = _cells[part].Pointer;
            var copied = 0L;
            var image = _image;
            var step = _step;
            var width = _width;
            var gridWidth = _gridWidth;
            var active = _activeClasses.Pointer;
            var labels = _labels;
            for (var y = start; y < end; y++)
            {
                var gy0 = y / step;
                var gy1 = Math.Min(gy0 + 1, _gridHeight - 1);
                var onGridRow = y == gy0 * step;
                if (copy && (y == start || gy0 != (y - 1) / step))
                {
                    PrepareCells(cells, gy0, gy1, tolerance);
                }

                var prepared = false;

                // x = gx0·step + ox, kept incrementally: a division per pixel would cost as much as the copy test.
                var gx0 = -1;
                var ox = step;
                for (var x = 0; x < width; x++, ox++)
                {
                    if (ox >= step)
                    {
                        ox -= step;
                        gx0++;
                    }

                    // Grid pixels were done by the grid pass.
                    if (onGridRow && ox == 0)
                    {
                        continue;
                    }

                    var p = (y * width) + x;
                    if (copy)
                    {
                        // One branch on data that is noisy at the pixel level: the six box tests
                        // are folded into one sign.
                        var cell = cells + (3 * gx0);
                        var label = cell[0];
                        var lo = cell[1];
                        var hi = cell[2];
                        var px = image + ((long)p * 3);
                        int b = px[0], g = px[1], red = px[2];
                        var inside = (b - (lo & 255)) | ((hi & 255) - b) | (g - ((lo >> 8) & 255)) | (((hi >> 8) & 255) - g)
                            | (red - (lo >> 16)) | ((hi >> 16) - red) | label;
                        if (inside >= 0)
                        {
                            labels[p] = (byte)active[label];
                            copied++;
                            continue;
                        }
                    }

                    if (!prepared)
                    {
                        prepared = true;
                        update.PrepareRow(y, gy0, gy1);
                    }

                    var best = update.Pixel(x, p, gx0, Math.Min(gx0 + 1, gridWidth - 1), ox, out _);
                    labels[p] = (byte)active[best];
                }
            }

            _copied[part * 8] += copied;
        }
    }

    /// <summary>
    /// For the cells between grid rows gy0 and gy1 (3 ints each): the label shared by the four
    /// corner grid pixels (−1 unless all four are confident and agree), and the colour box a pixel
    /// must lie in to be within <paramref name="tolerance"/> of all four corners, its lower and
    /// upper BGR bounds packed a byte per channel.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void PrepareCells(int* cells, int gy0, int gy1, int tolerance)
    {
        var gridLabel = _gridLabel.Pointer;
        var step = _step;
        var top = gridLabel + ((long)gy0 * _gridWidth);
        var bottom = gridLabel + ((long)gy1 * _gridWidth);
        var imageTop = _image + ((long)gy0 * step * _width * 3);
        var imageBottom = _image + ((long)gy1 * step * _width * 3);
        for (var gx = 0; gx < _gridWidth; gx++)
        {
            var gx1 = Math.Min(gx + 1, _gridWidth - 1);
            var label = top[gx];
            var cell = cells + (3 * gx);
            if (label < 0 || top[gx1] != label || bottom[gx] != label || bottom[gx1] != label)
            {
                cell[0] = -1;
                continue;
            }

            byte* c00 = imageTop + (gx * step * 3), c01 = imageTop + (gx1 * step * 3);
            byte* c10 = imageBottom + (gx * step * 3), c11 = imageBottom + (gx1 * step * 3);
            int lo = 0, hi = 0;
            for (var c = 0; c < 3; c++)
            {
                var max = Math.Max(Math.Max(c00[c], c01[c]), Math.Max(c10[c], c11[c]));
                var min = Math.Min(Math.Min(c00[c], c01[c]), Math.Min(c10[c], c11[c]));
                lo |= Math.Max(0, max - tolerance) << (8 * c);
                hi |= Math.Min(255, min + tolerance) << (8 * c);
            }

            // An empty box (corners further apart than 2·tolerance) has lo > hi in some channel and copies nothing.
            cell[0] = label;
            cell[1] = lo;
            cell[2] = hi;
        }
    }

    /// <summary>Largest score other than the one at <paramref name="best"/> (−∞ with a single class).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float SecondBest(float* scores, int stride, int best)
    {
        // Hide the best for one vector pass rather than test every lane's index.
        var saved = scores[best];
        scores[best] = float.NegativeInfinity;
        var max = new Vector<float>(float.NegativeInfinity);
        for (var k = 0; k < stride; k += Vector<float>.Count)
        {
            max = Vector.Max(max, Vector.Load(scores + k));
        }

        scores[best] = saved;
        return VectorMath.HorizontalMax(max);
    }

    /// <summary>
    /// Scores with the exact clipped unary, −U = max(z − logsumexp(z), ln 1e-8), plus the messages;
    /// returns the argmax. The logsumexp runs over the active classes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int ExactScores(float* logits, float* messages, float* scores, int stride, float zMax, float* padding)
    {
        var vw = Vector<float>.Count;
        var sum = Vector<float>.Zero;
        for (var k = 0; k < stride; k += vw)
        {
            sum += VectorMath.Exp(Vector.Load(logits + k) - new Vector<float>(zMax));
        }

        var logSum = new Vector<float>(zMax + MathF.Log(Vector.Sum(sum)));
        var floor = new Vector<float>(-CrfUnary.MaxEnergy);
        var max = new Vector<float>(float.NegativeInfinity);
        for (var k = 0; k < stride; k += vw)
        {
            var z = Vector.Load(logits + k);
            var s = Vector.Max(z - logSum, floor) + Vector.Load(padding + k) + Vector.Load(messages + k);
            s.Store(scores + k);
            max = Vector.Max(max, s);
        }

        return ArgMax(scores, stride, VectorMath.HorizontalMax(max));
    }

    /// <summary>First index whose score equals <paramref name="max"/> (the argmax, ties to the lowest class).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ArgMax(float* scores, int stride, float max)
    {
        var vw = Vector<float>.Count;
        var target = new Vector<float>(max);
        for (var k = 0; k < stride; k += vw)
        {
            var hits = Vector.Equals(Vector.Load(scores + k), target);
            if (!Vector.EqualsAll(hits, Vector<int>.Zero))
            {
                for (var i = 0; i < vw; i++)
                {
                    if (hits[i] != 0)
                    {
                        return k + i;
                    }
                }
            }
        }

        return 0;
    }

    /// <summary>
    /// One worker's full-resolution update of single pixels, for both passes: logits interpolated at
    /// the pixel, the appearance message sliced at the pixel's own lattice position and normalised
    /// with its own n, the smoothness message interpolated from the grid; argmax → label, softmax →
    /// probabilities. Set up once per chunk, with the worker's row buffers and a scratch of three
    /// points (scores, logits, messages).
    /// </summary>
    private readonly struct PixelUpdate
    {
        private readonly MeanFieldEngine _engine;
        private readonly int* _ids;
        private readonly float* _weights;
        private readonly float* _logitRow;
        private readonly float* _smoothRow;
        private readonly float* _logits;
        private readonly float* _messages;
        private readonly float* _lattice;
        private readonly float* _ones;
        private readonly float* _padding;
        private readonly float* _probabilities;
        private readonly int* _active;
        private readonly BilinearTap[] _xTaps;
        private readonly long _plane;
        private readonly int _stride;
        private readonly int _activeCount;
        private readonly float _w1;
        private readonly float _invStep;
        private readonly float _clipMargin;

        // Inlined, so that the struct stays a set of locals of the pass rather than memory it points to.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public PixelUpdate(MeanFieldEngine engine, int part, int* ids, float* weights, float* scratch)
        {
            _engine = engine;
            _ids = ids;
            _weights = weights;
            _stride = engine._stride;
            Scores = scratch;
            _logits = scratch + _stride;
            _messages = scratch + (2 * _stride);
            _logitRow = engine._rowA[part].Pointer;
            _smoothRow = engine._rowB[part].Pointer;
            _lattice = engine._latticeA.Pointer;
            _ones = engine._onesA.Pointer;
            _padding = engine._paddingActive.Pointer;
            _probabilities = engine._probabilities;
            _active = engine._activeClasses.Pointer;
            _activeCount = engine._active;
            _xTaps = engine._xTaps;
            _plane = (long)engine._width * engine._height;
            _w1 = engine._w1;
            _invStep = 1f / engine._step;

            // A class whose p is clipped at 1e-8 scores at most logsumexp(z) − 18.42 + its message, and
            // logsumexp(z) ≤ max z + ln(classes): below that margin the clip cannot change the argmax.
            _clipMargin = CrfUnary.MaxEnergy - MathF.Log(engine._active);
        }

        /// <summary>The scores of the last updated pixel's active classes.</summary>
        public float* Scores { get; }

        /// <summary>
        /// Before the first pixel of frame row <paramref name="y"/>: its logits interpolated
        /// vertically, and the smoothness message between grid rows gy0 and gy1.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void PrepareRow(int y, int gy0, int gy1)
        {
            var engine = _engine;
            var stride = _stride;
            var gridWidth = engine._gridWidth;
            var smoothRow = _smoothRow;
            engine.InterpolateScoreRow(engine._activeLogits, stride, y, _logitRow);
            var fy = new Vector<float>((y - (gy0 * engine._step)) * _invStep);
            var top = engine._smoothOut.Pointer + ((long)gy0 * gridWidth * stride);
            var bottom = engine._smoothOut.Pointer + ((long)gy1 * gridWidth * stride);
            for (var i = 0; i < gridWidth * stride; i += Vector<float>.Count)
            {
                var a = Vector.Load(top + i);
                Vector.Store(Vector.FusedMultiplyAdd(Vector.Load(bottom + i) - a, fy, a), smoothRow + i);
            }
        }

        /// <summary>
        /// Updates pixel p = (x, y) of the prepared row, x = gx0·step + ox between grid columns gx0
        /// and gx1; returns its best active class, with <paramref name="bestScore"/>, and leaves the
        /// scores in <see cref="Scores"/>.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int Pixel(int x, int p, int gx0, int gx1, int ox, out float bestScore)
        {
            const int corners = PermutohedralLattice.Corners;
            var vw = Vector<float>.Count;
            var stride = _stride;
            var scores = Scores;
            var logits = _logits;
            var messages = _messages;
            var id = _ids + ((long)p * corners);
            var w = _weights + ((long)p * corners);
            var d = 0f;
            for (var c = 0; c < corners; c++)
            {
                d += w[c] * _ones[id[c]];
            }

            // Pixels whose whole simplex holds no grid vertex get no appearance message.
            var n = d > 1e-12f ? _w1 / MathF.Sqrt(d) : 0f;
            var tap = _xTaps[x];
            var la = _logitRow + ((long)tap.Index0 * stride);
            var lb = _logitRow + ((long)tap.Index1 * stride);
            var fx = new Vector<float>(ox * _invStep);
            var sa = _smoothRow + ((long)gx0 * stride);
            var sb = _smoothRow + ((long)gx1 * stride);
            var maxMessage = new Vector<float>(float.NegativeInfinity);
            var maxScore = new Vector<float>(float.NegativeInfinity);
            ChannelKernels.Slice(_lattice, id, w, n, null, null, messages, stride);
            for (var k = 0; k < stride; k += vw)
            {
                var z = (Vector.Load(la + k) * new Vector<float>(tap.Weight0))
                    + (Vector.Load(lb + k) * new Vector<float>(tap.Weight1));
                var s0 = Vector.Load(sa + k);
                var message = Vector.FusedMultiplyAdd(Vector.Load(sb + k) - s0, fx, s0)
                    + Vector.Load(messages + k);

                // −U + logsumexp(z) = z for unclipped classes: the logsumexp is common to all
                // classes, so the argmax needs it only where the clip might matter.
                var score = z + message;
                score.Store(scores + k);
                message.Store(messages + k);
                maxMessage = Vector.Max(maxMessage, message);
                maxScore = Vector.Max(maxScore, score);
            }

            bestScore = VectorMath.HorizontalMax(maxScore);
            var best = ArgMax(scores, stride, bestScore);

            // The best score is at least max z (messages are sums of non-negative terms), so
            // a clipped class can only win where some message exceeds the clip margin.
            if (_probabilities != null || VectorMath.HorizontalMax(maxMessage) >= _clipMargin)
            {
                var zMax = float.NegativeInfinity;
                for (var k = 0; k < stride; k++)
                {
                    logits[k] = (la[k] * tap.Weight0) + (lb[k] * tap.Weight1);
                    zMax = MathF.Max(zMax, logits[k]);
                }

                best = ExactScores(logits, messages, scores, stride, zMax, _padding);
                bestScore = scores[best];
                if (_probabilities != null)
                {
                    Softmax(scores, scores, stride);
                    for (var k = 0; k < _activeCount; k++)
                    {
                        _probabilities[(_active[k] * _plane) + p] = scores[k];
                    }
                }
            }

            return best;
        }
    }
}
