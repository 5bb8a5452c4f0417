using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace EdgeSeg.Pipeline.Refinement;

/// <summary>
/// Mean-field inference for the fully connected CRF, all buffers kept between frames.
/// </summary>
/// <remarks>
/// Layout: beliefs, unaries and lattice values are channel-last with the frame's active classes
/// padded to a multiple of <see cref="Vector{T}.Count"/> (<c>_stride</c> floats per point), so every
/// splat, blur, slice and softmax step is a run of vector FMAs; padding lanes carry −1e30 in the
/// unary and stay 0 in the beliefs.
/// Schedule per frame: unary on the working grid → lattice (locate every pixel, create vertices
/// from grid pixels) → normalisers → (Iterations − 1) updates on the grid → one last update of
/// every pixel of the frame, slicing the lattice at the pixel's own position and interpolating the
/// (spatially smooth) smoothness message bilinearly.
/// Each parallel step is a small struct run by the <see cref="WorkerGroup"/> (the phases below
/// <see cref="RunFrame"/>, in the order it runs them); the serial steps are plain calls.
/// </remarks>
internal sealed unsafe partial class MeanFieldEngine : IDisposable
{
    private const float Padding = -1e30f;

    private readonly float _w1;
    private readonly float _w2;
    private readonly float _spatialSigma;
    private readonly float _colorSigma;
    private readonly float _smoothSigma;
    private readonly int _iterations;
    private readonly int _step;
    private readonly float _logPruning;
    private readonly float _copyMargin;
    private readonly int _copyTolerance;
    private readonly WorkerGroup _workers;
    private readonly PermutohedralLattice _lattice = new();
    private readonly SeparableGaussian _smooth = new();
    private readonly float[] _featureScales = new float[PermutohedralLattice.Dims];
    private readonly long[] _stageTicks = new long[(int)Stage.Count];

    // Frame geometry.
    private int _width;
    private int _height;
    private int _gridWidth;
    private int _gridHeight;
    private int _points;
    private int _classes;
    private int _scoreWidth;
    private int _scoreHeight;
    private int _strideAll;
    private int _active;
    private int _stride;

    // Inputs of the current call.
    private byte* _image;
    private float* _scores;
    private byte* _labels;
    private float* _probabilities;

    private Buffer<float> _coarseAll;
    private Buffer<float> _coarseActive;
    private Buffer<float> _negUnaryAll;
    private Buffer<float> _negUnary;

    // The active classes' logits (score-map points) and negative unaries (grid points): the
    // buffers above after pruning, or the all-class ones when nothing was pruned.
    private float* _activeLogits;
    private float* _activeNegUnary;
    private Buffer<float> _q;
    private Buffer<float> _smoothTmp;
    private Buffer<float> _smoothOut;
    private Buffer<float> _latticeA;
    private Buffer<float> _latticeB;
    private Buffer<float> _onesA;
    private Buffer<float> _onesB;
    private Buffer<int> _gridIds;
    private Buffer<float> _gridWeights;
    private Buffer<float> _gridSliceWeights;
    private Buffer<float> _gridNorm;
    private Buffer<int> _gridLabel;
    private Buffer<int> _activeClasses;
    private Buffer<float> _paddingAll;
    private Buffer<float> _paddingActive;
    private BilinearTap[] _xTaps = [];
    private BilinearTap[] _yTaps = [];
    private readonly int[] _splatSplit;

    // Pixels that took their label from the grid, per part; each part on its own cache line.
    private readonly long[] _copied;

    private readonly Buffer<float>[] _rowA;
    private readonly Buffer<float>[] _rowB;
    private readonly Buffer<float>[] _classMax;
    private readonly Buffer<int>[] _cells;

    public MeanFieldEngine(CrfOptions options, int parallelism)
    {
        _w1 = options.AppearanceWeight;
        _w2 = options.SmoothnessWeight;
        _spatialSigma = options.AppearanceSpatialSigma;
        _colorSigma = options.AppearanceColorSigma;
        _smoothSigma = options.SmoothnessSpatialSigma;
        _iterations = options.Iterations;
        _step = options.WorkingScale;
        _logPruning = options.ClassPruningThreshold > 0f ? MathF.Log(options.ClassPruningThreshold) : float.NegativeInfinity;
        _copyMargin = options.CopyMargin;
        _copyTolerance = options.CopyColorTolerance;
        _workers = new WorkerGroup(parallelism);
        _splatSplit = new int[parallelism + 1];
        _copied = new long[parallelism * 8];
        _rowA = new Buffer<float>[parallelism];
        _rowB = new Buffer<float>[parallelism];
        _classMax = new Buffer<float>[parallelism];
        _cells = new Buffer<int>[parallelism];
        PermutohedralLattice.FeatureScales(_spatialSigma, _colorSigma, _featureScales);
    }

    /// <summary>Where the time of the last frame went, for the benchmark.</summary>
    internal enum Stage
    {
        Unary,

        /// <summary>Locating every pixel in the lattice and inserting its simplex's vertices (parallel by rows).</summary>
        LatticeLocate,

        /// <summary>Settling the vertex count (serial; a full serial insertion when a frame outgrew the table).</summary>
        LatticeInsert,

        /// <summary>Blur neighbours of every vertex (parallel) and, alongside, the splat lists (serial).</summary>
        Neighbours,

        Normalise,
        Iterations,

        /// <summary>The last filtering and the full-resolution update of the grid pixels.</summary>
        FinalGrid,

        /// <summary>The full-resolution update of the other pixels (or their copy from the grid).</summary>
        FinalPass,
        Count,
    }

    public int Parallelism => _workers.Parts;

    /// <summary>Classes kept after pruning in the last frame.</summary>
    public int ActiveClasses => _active;

    /// <summary>Share of the frame's pixels that took their label from the grid in the last frame.</summary>
    public double CopiedShare
    {
        get
        {
            long sum = 0;
            for (var i = 0; i < _copied.Length; i += 8)
            {
                sum += _copied[i];
            }

            return (double)sum / Math.Max(1, (long)_width * _height);
        }
    }

    /// <summary>Lattice vertices of the last frame.</summary>
    public int LatticeVertices => _lattice.VertexCount;

    /// <summary>The clock the deadline is compared with (<see cref="Stopwatch"/> timestamps); tests replace it.</summary>
    internal Func<long> Clock { get; set; } = Stopwatch.GetTimestamp;

    public double StageMilliseconds(Stage stage) => _stageTicks[(int)stage] * 1000.0 / Stopwatch.Frequency;

    /// <summary>
    /// Refines one frame; false, with <paramref name="labels"/> and <paramref name="probabilities"/>
    /// incomplete, as soon as a check finds the <see cref="Stopwatch"/> timestamp
    /// <paramref name="deadline"/> passed (after the lattice build, between iterations, before and
    /// after the full-resolution update). <see cref="long.MaxValue"/> never expires.
    /// </summary>
    public bool Run(
        ReadOnlySpan<float> scores, int classes, int scoreHeight, int scoreWidth, ReadOnlySpan<byte> image,
        int width, int height, Span<byte> labels, Span<float> probabilities, long deadline = long.MaxValue)
    {
        Configure(classes, scoreHeight, scoreWidth, width, height);
        fixed (float* scoresPtr = scores)
        fixed (byte* imagePtr = image)
        fixed (byte* labelsPtr = labels)
        fixed (float* probabilitiesPtr = probabilities)
        {
            _scores = scoresPtr;
            _image = imagePtr;
            _labels = labelsPtr;
            _probabilities = probabilities.IsEmpty ? null : probabilitiesPtr;
            try
            {
                return RunFrame(deadline);
            }
            finally
            {
                _scores = null;
                _image = null;
                _labels = null;
                _probabilities = null;
            }
        }
    }

    private bool RunFrame(long deadline)
    {
        if (Clock() > deadline)
        {
            return false;
        }

        var t0 = Stopwatch.GetTimestamp();
        TransposeScores(_coarseAll.Pointer, _strideAll, null, _classes);
        _workers.RunShares(_gridHeight, new UnaryPhase(this));
        ChooseActiveClasses();
        var t1 = Stopwatch.GetTimestamp();

        _lattice.BeginInsert(_workers.Parts);
        _workers.RunChunks(_height, 8, new LocatePhase(this));
        var t1a = Stopwatch.GetTimestamp();
        if (!_lattice.EndInsert())
        {
            // Inserted again serially: the ids copied during the parallel step are stale.
            CopyGridSimplices(0, _height);
        }

        _lattice.PrepareNeighbours();
        var t1b = Stopwatch.GetTimestamp();
        _workers.Run(new NeighboursPhase(this));
        var t1c = Stopwatch.GetTimestamp();
        var m = _lattice.VertexCount;
        var lattice = (long)(m + 1) * _stride;
        _latticeA.Ensure(lattice);
        _latticeB.Ensure(lattice);
        _onesA.Ensure(m + 1);
        _onesB.Ensure(m + 1);

        // Normaliser of the appearance kernel: the lattice filter applied to ones.
        var onesA = _onesA.Pointer;
        var onesB = _onesB.Pointer;
        _lattice.SplatOnes(onesA, 0, m);
        onesA[m] = 0f;
        onesB[m] = 0f;
        for (var axis = 0; axis < PermutohedralLattice.Corners; axis++)
        {
            _lattice.BlurScalar(axis, onesA, onesB, 0, m);
            var swap = onesA;
            onesA = onesB;
            onesB = swap;
        }

        // An even number of axes leaves the result in _onesA.
        _workers.RunShares(_gridHeight, new NormalisePhase(this));
        _lattice.ScaleSplatWeights(_gridNorm.Span(_points));
        SplitSplat();
        var t3 = Stopwatch.GetTimestamp();

        // The clock is read between steps only: a step is short (well under a millisecond on the
        // grid), and stopping inside one would need a check per row in every worker.
        for (var iteration = 1; iteration < _iterations; iteration++)
        {
            if (Clock() > deadline)
            {
                return false;
            }

            FilterAppearance();
            _workers.RunChunks((_gridHeight + 1) / 2, 2, new UpdatePhase(this));
        }

        if (Clock() > deadline)
        {
            return false;
        }

        var t4 = Stopwatch.GetTimestamp();

        FilterAppearance();
        _workers.RunShares((_gridHeight + 1) / 2, new SmoothOutPhase(this));
        _workers.RunChunks(_gridHeight, 2, new FinalGridPhase(this));
        var t4b = Stopwatch.GetTimestamp();
        Array.Clear(_copied);

        // Chunks of whole grid cells, so that each prepares its cells once.
        _workers.RunChunks(_height, 2 * _step, new FinalPixelPhase(this));
        if (_probabilities != null && _active < _classes)
        {
            ClearPrunedPlanes((long)_width * _height);
        }

        var t5 = Stopwatch.GetTimestamp();

        _stageTicks[(int)Stage.Unary] = t1 - t0;
        _stageTicks[(int)Stage.LatticeLocate] = t1a - t1;
        _stageTicks[(int)Stage.LatticeInsert] = t1b - t1a;
        _stageTicks[(int)Stage.Neighbours] = t1c - t1b;
        _stageTicks[(int)Stage.Normalise] = t3 - t1c;
        _stageTicks[(int)Stage.Iterations] = t4 - t3;
        _stageTicks[(int)Stage.FinalGrid] = t4b - t4;
        _stageTicks[(int)Stage.FinalPass] = t5 - t4b;
        return Clock() <= deadline;
    }

    /// <summary>Splat (with the horizontal smoothness pass alongside) and the six blur passes; result in lattice A.</summary>
    private void FilterAppearance()
    {
        _workers.Run(new SplatPhase(this));
        var source = _latticeA.Pointer;
        var target = _latticeB.Pointer;
        for (var axis = 0; axis < PermutohedralLattice.Corners; axis++)
        {
            _workers.RunChunks(_lattice.VertexCount, 512, new BlurPhase(_lattice, axis, source, target, _stride));
            var swap = source;
            source = target;
            target = swap;
        }
    }

    /// <summary>Interpolated unaries of grid rows and each class's largest probability, in fixed shares: each part keeps its own maxima.</summary>
    private readonly struct UnaryPhase(MeanFieldEngine engine) : IRangeStep
    {
        public void Run(int part, int start, int end) => engine.UnaryRows(part, start, end);
    }

    /// <summary>Frame rows located in the lattice, their vertices created, the grid pixels' simplices kept.</summary>
    private readonly struct LocatePhase(MeanFieldEngine engine) : IRangeStep
    {
        public void Run(int part, int start, int end)
        {
            var lattice = engine._lattice;
            lattice.LocateRows(new ReadOnlySpan<byte>(engine._image, engine._width * engine._height * 3), engine._featureScales, start, end);
            lattice.InsertRows(part, start, end);
            engine.CopyGridSimplices(start, end);
        }
    }

    /// <summary>
    /// The blur neighbours of every vertex, in chunks; the splat lists are one serial pass, which
    /// the caller's part builds first while the other workers start on the neighbours.
    /// </summary>
    private readonly struct NeighboursPhase(MeanFieldEngine engine) : IWorkerStep
    {
        public void Execute(int part, int parts)
        {
            var lattice = engine._lattice;
            if (part == 0)
            {
                var entries = engine._points * PermutohedralLattice.Corners;
                lattice.BuildSplatLists(engine._gridIds.Span(entries), engine._gridWeights.Span(entries), engine._points);
            }

            while (engine._workers.NextChunk(lattice.VertexCount, 256, out var start, out var end))
            {
                lattice.FindNeighbours(start, end);
            }
        }
    }

    /// <summary>Appearance normalisers, slice weights and initial beliefs of grid rows.</summary>
    private readonly struct NormalisePhase(MeanFieldEngine engine) : IRangeStep
    {
        public void Run(int part, int start, int end) => engine.NormaliseRows(start, end);
    }

    /// <summary>
    /// The splat of the beliefs into lattice A, each part its share of equal splat entries
    /// (<see cref="SplitSplat"/>); then the rows of the horizontal smoothness pass, in chunks, to
    /// whoever is done with its share.
    /// </summary>
    private readonly struct SplatPhase(MeanFieldEngine engine) : IWorkerStep
    {
        public void Execute(int part, int parts)
        {
            var m = engine._lattice.VertexCount;
            var stride = engine._stride;
            var latticeA = engine._latticeA.Pointer;
            engine._lattice.Splat(engine._q.Pointer, latticeA, stride, engine._splatSplit[part], engine._splatSplit[part + 1]);
            if (part == 0)
            {
                // Row m is the missing neighbour of the blur: zeros in both buffers.
                new Span<float>(latticeA + ((long)m * stride), stride).Clear();
                new Span<float>(engine._latticeB.Pointer + ((long)m * stride), stride).Clear();
            }

            while (engine._w2 > 0f && engine._workers.NextChunk(engine._gridHeight, 4, out var start, out var end))
            {
                engine._smooth.Horizontal(engine._q.Pointer, engine._smoothTmp.Pointer, stride, start, end);
            }
        }
    }

    /// <summary>One blur pass along one lattice axis over a range of vertices.</summary>
    private readonly struct BlurPhase(PermutohedralLattice lattice, int axis, float* source, float* target, int stride) : IRangeStep
    {
        public void Run(int part, int start, int end) => lattice.Blur(axis, source, target, stride, start, end);
    }

    /// <summary>One mean-field update of grid row pairs.</summary>
    private readonly struct UpdatePhase(MeanFieldEngine engine) : IRangeStep
    {
        public void Run(int part, int start, int end) => engine.UpdateRowPairs(part, start, end);
    }

    /// <summary>The vertical smoothness pass of grid row pairs, kept for the full-resolution update.</summary>
    private readonly struct SmoothOutPhase(MeanFieldEngine engine) : IRangeStep
    {
        public void Run(int part, int start, int end) => engine.SmoothOutRowPairs(start, end);
    }

    /// <summary>The full-resolution update of the grid pixels of grid rows.</summary>
    private readonly struct FinalGridPhase(MeanFieldEngine engine) : IRangeStep
    {
        public void Run(int part, int start, int end) => engine.FinalGridRows(part, start, end);
    }

    /// <summary>The full-resolution update (or copy) of the other pixels of frame rows.</summary>
    private readonly struct FinalPixelPhase(MeanFieldEngine engine) : IRangeStep
    {
        public void Run(int part, int start, int end) => engine.FinalPixelRows(part, start, end);
    }

    private void Configure(int classes, int scoreHeight, int scoreWidth, int width, int height)
    {
        var vw = Vector<float>.Count;
        if (width != _width || height != _height)
        {
            var bound = PermutohedralLattice.ElevatedBound(width, height, _spatialSigma, _colorSigma);
            if (bound > PermutohedralLattice.MaxElevated)
            {
                throw new ArgumentException(
                    $"a {width}x{height} frame spans too many lattice cells for AppearanceSpatialSigma {_spatialSigma} and AppearanceColorSigma {_colorSigma}; raise the sigmas or lower the resolution",
                    nameof(width));
            }

            _width = width;
            _height = height;
            _gridWidth = ((width - 1) / _step) + 1;
            _gridHeight = ((height - 1) / _step) + 1;
            _points = _gridWidth * _gridHeight;
            _lattice.EnsureCapacity(width, height);
            _smooth.Configure(_gridWidth, _gridHeight, _smoothSigma / _step, _w2);
            _gridIds.Ensure(_points * PermutohedralLattice.Corners);
            _gridWeights.Ensure(_points * PermutohedralLattice.Corners);
            _gridSliceWeights.Ensure(_points * PermutohedralLattice.Corners);
            _gridNorm.Ensure(_points);
            _gridLabel.Ensure(_points);
        }

        if (classes != _classes || scoreHeight != _scoreHeight || scoreWidth != _scoreWidth || _xTaps.Length != width || _yTaps.Length != height)
        {
            _classes = classes;
            _scoreHeight = scoreHeight;
            _scoreWidth = scoreWidth;
            _strideAll = (classes + vw - 1) / vw * vw;
            _xTaps = BilinearAxis.Create(scoreWidth, width);
            _yTaps = BilinearAxis.Create(scoreHeight, height);
            _coarseAll.Ensure(scoreHeight * scoreWidth * _strideAll);
            _coarseActive.Ensure(scoreHeight * scoreWidth * _strideAll);
            _activeClasses.Ensure(_strideAll);
            _paddingAll.Ensure(_strideAll);
            _paddingActive.Ensure(_strideAll);
            for (var k = 0; k < _strideAll; k++)
            {
                _paddingAll.Pointer[k] = k < classes ? 0f : Padding;
            }
        }

        var rowFloats = 2 * Math.Max(scoreWidth, _gridWidth) * _strideAll;
        for (var part = 0; part < _workers.Parts; part++)
        {
            _rowA[part].Ensure(rowFloats);
            _rowB[part].Ensure(rowFloats);
            _classMax[part].Ensure(_strideAll);
            _cells[part].Ensure(3 * _gridWidth);
        }

        _negUnaryAll.Ensure(_points * _strideAll);
        _negUnary.Ensure(_points * _strideAll);
        _q.Ensure(_points * _strideAll);
        _smoothTmp.Ensure(_points * _strideAll);
        _smoothOut.Ensure(_points * _strideAll);
    }

    /// <summary>Logits NCHW → channel-last (h·w points × stride), the listed classes only, padding −1e30.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void TransposeScores(float* target, int stride, int* classList, int count)
    {
        var plane = _scoreHeight * _scoreWidth;
        for (var p = 0; p < plane; p++)
        {
            var row = target + ((long)p * stride);
            for (var k = 0; k < stride; k++)
            {
                var c = k < count ? (classList == null ? k : classList[k]) : -1;
                row[k] = c < 0 ? Padding : _scores[((long)c * plane) + p];
            }
        }
    }

    /// <summary>Vertical interpolation of the channel-last score map for output row <paramref name="y"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void InterpolateScoreRow(float* coarse, int stride, int y, float* row)
    {
        var tap = _yTaps[y];
        var top = coarse + ((long)tap.Index0 * _scoreWidth * stride);
        var bottom = coarse + ((long)tap.Index1 * _scoreWidth * stride);
        var w0 = new Vector<float>(tap.Weight0);
        var w1 = new Vector<float>(tap.Weight1);
        var count = _scoreWidth * stride;
        for (var i = 0; i < count; i += Vector<float>.Count)
        {
            var v = (Vector.Load(top + i) * w0) + (Vector.Load(bottom + i) * w1);
            v.Store(row + i);
        }
    }

    /// <summary>
    /// Negative unary (log of the clipped softmax) of every class on grid rows [start, end), and the
    /// largest log-probability of each class for pruning.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void UnaryRows(int part, int start, int end)
    {
        var stride = _strideAll;
        var vw = Vector<float>.Count;
        var row = _rowA[part].Pointer;
        var classMax = _classMax[part].Pointer;
        var padding = _paddingAll.Pointer;
        for (var k = 0; k < stride; k++)
        {
            classMax[k] = float.NegativeInfinity;
        }

        var floor = new Vector<float>(-CrfUnary.MaxEnergy);
        for (var gy = start; gy < end; gy++)
        {
            InterpolateScoreRow(_coarseAll.Pointer, stride, gy * _step, row);
            for (var gx = 0; gx < _gridWidth; gx++)
            {
                var tap = _xTaps[gx * _step];
                var a = row + ((long)tap.Index0 * stride);
                var b = row + ((long)tap.Index1 * stride);
                var target = _negUnaryAll.Pointer + ((long)((gy * _gridWidth) + gx) * stride);
                var max = new Vector<float>(float.NegativeInfinity);
                for (var k = 0; k < stride; k += vw)
                {
                    var z = (Vector.Load(a + k) * new Vector<float>(tap.Weight0))
                        + (Vector.Load(b + k) * new Vector<float>(tap.Weight1));
                    z.Store(target + k);
                    max = Vector.Max(max, z);
                }

                var m = VectorMath.HorizontalMax(max);
                var sum = Vector<float>.Zero;
                for (var k = 0; k < stride; k += vw)
                {
                    sum += VectorMath.Exp(Vector.Load(target + k) - new Vector<float>(m));
                }

                var logSum = new Vector<float>(m + MathF.Log(Vector.Sum(sum)));
                for (var k = 0; k < stride; k += vw)
                {
                    var logP = Vector.Max(Vector.Load(target + k) - logSum, floor) + Vector.Load(padding + k);
                    logP.Store(target + k);
                    Vector.Store(Vector.Max(Vector.Load(classMax + k), logP), classMax + k);
                }
            }
        }
    }

    /// <summary>Keeps the classes whose probability reaches the pruning threshold somewhere, then lays out their unaries and logits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ChooseActiveClasses()
    {
        var active = _activeClasses.Pointer;
        var count = 0;
        var best = 0;
        var bestValue = float.NegativeInfinity;
        for (var c = 0; c < _classes; c++)
        {
            var max = float.NegativeInfinity;
            for (var part = 0; part < _workers.Parts; part++)
            {
                max = MathF.Max(max, _classMax[part].Pointer[c]);
            }

            if (max >= _logPruning)
            {
                active[count++] = c;
            }

            if (max > bestValue)
            {
                bestValue = max;
                best = c;
            }
        }

        if (count == 0)
        {
            active[count++] = best;
        }

        var vw = Vector<float>.Count;
        _active = count;
        _stride = (count + vw - 1) / vw * vw;
        for (var k = 0; k < _stride; k++)
        {
            _paddingActive.Pointer[k] = k < count ? 0f : Padding;
        }

        // Nothing pruned (the usual case with noisy logits): the full layouts are the active ones.
        if (count == _classes)
        {
            _activeLogits = _coarseAll.Pointer;
            _activeNegUnary = _negUnaryAll.Pointer;
            return;
        }

        _activeLogits = _coarseActive.Pointer;
        _activeNegUnary = _negUnary.Pointer;
        TransposeScores(_coarseActive.Pointer, _stride, active, count);
        for (var p = 0; p < _points; p++)
        {
            var source = _negUnaryAll.Pointer + ((long)p * _strideAll);
            var target = _negUnary.Pointer + ((long)p * _stride);
            for (var k = 0; k < _stride; k++)
            {
                target[k] = k < count ? source[active[k]] : Padding;
            }
        }
    }

    /// <summary>Copies the simplices (vertex ids and weights) of the grid pixels on frame rows [rowStart, rowEnd).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void CopyGridSimplices(int rowStart, int rowEnd)
    {
        const int corners = PermutohedralLattice.Corners;
        fixed (int* ids = _lattice.PixelVertices)
        fixed (float* weights = _lattice.PixelWeights)
        {
            var gridIds = _gridIds.Pointer;
            var gridWeights = _gridWeights.Pointer;
            for (var gy = (rowStart + _step - 1) / _step; gy * _step < rowEnd; gy++)
            {
                for (var gx = 0; gx < _gridWidth; gx++)
                {
                    var p = ((long)(gy * _step * _width) + (gx * _step)) * corners;
                    var g = ((long)(gy * _gridWidth) + gx) * corners;
                    for (var k = 0; k < corners; k++)
                    {
                        gridIds[g + k] = ids[p + k];
                        gridWeights[g + k] = weights[p + k];
                    }
                }
            }
        }
    }

    /// <summary>Splits the splat into parts of equal entry counts (vertices differ a lot in how many points they gather).</summary>
    private void SplitSplat()
    {
        var starts = _lattice.SplatStart;
        var m = _lattice.VertexCount;
        var total = starts[m];
        var parts = _workers.Parts;
        _splatSplit[0] = 0;
        var v = 0;
        for (var part = 1; part < parts; part++)
        {
            var target = (long)total * part / parts;
            while (v < m && starts[v] < target)
            {
                v++;
            }

            _splatSplit[part] = v;
        }

        _splatSplit[parts] = m;
    }

    /// <summary>
    /// Grid rows [start, end): appearance normaliser n = (K·1)^−½ from the sliced ones, slice weights
    /// w1·n·barycentric, and the initial beliefs Q0 = softmax(−unary).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void NormaliseRows(int start, int end)
    {
        const int corners = PermutohedralLattice.Corners;
        var ones = _onesA.Pointer;
        var ids = _gridIds.Pointer;
        var weights = _gridWeights.Pointer;
        var slice = _gridSliceWeights.Pointer;
        var norm = _gridNorm.Pointer;
        for (var g = start * _gridWidth; g < end * _gridWidth; g++)
        {
            var d = 0f;
            for (var k = 0; k < corners; k++)
            {
                d += weights[(g * corners) + k] * ones[ids[(g * corners) + k]];
            }

            var n = 1f / MathF.Sqrt(d + 1e-20f);
            norm[g] = n;
            for (var k = 0; k < corners; k++)
            {
                slice[(g * corners) + k] = _w1 * n * weights[(g * corners) + k];
            }

            Softmax(_activeNegUnary + ((long)g * _stride), _q.Pointer + ((long)g * _stride), _stride);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Softmax(float* scores, float* q, int stride)
    {
        var vw = Vector<float>.Count;
        var max = new Vector<float>(float.NegativeInfinity);
        for (var k = 0; k < stride; k += vw)
        {
            max = Vector.Max(max, Vector.Load(scores + k));
        }

        var m = new Vector<float>(VectorMath.HorizontalMax(max));
        var sum = Vector<float>.Zero;
        for (var k = 0; k < stride; k += vw)
        {
            var e = VectorMath.Exp(Vector.Load(scores + k) - m);
            e.Store(q + k);
            sum += e;
        }

        var inv = new Vector<float>(1f / Vector.Sum(sum));
        for (var k = 0; k < stride; k += vw)
        {
            Vector.Store(Vector.Load(q + k) * inv, q + k);
        }
    }

    /// <summary>
    /// One mean-field update of the grid row pairs [start, end): Q = softmax(−U + w1·appearance +
    /// w2·smoothness). Reads only the lattice and the horizontal smoothness pass, so Q is overwritten
    /// in place.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void UpdateRowPairs(int part, int start, int end)
    {
        const int corners = PermutohedralLattice.Corners;
        var stride = _stride;
        var rowFloats = (long)_gridWidth * stride;
        var smooth0 = _rowA[part].Pointer;
        var smooth1 = smooth0 + rowFloats;
        var lattice = _latticeA.Pointer;
        var ids = _gridIds.Pointer;
        var weights = _gridSliceWeights.Pointer;
        var scores = _rowB[part].Pointer;
        for (var pair = start; pair < end; pair++)
        {
            var y0 = 2 * pair;
            var rows = Math.Min(2, _gridHeight - y0);
            if (_w2 > 0f)
            {
                _smooth.VerticalRows(_smoothTmp.Pointer, smooth0, smooth1, stride, y0);
            }
            else
            {
                new Span<float>(smooth0, (int)(2 * rowFloats)).Clear();
            }

            for (var r = 0; r < rows; r++)
            {
                var gy = y0 + r;
                var smoothRow = r == 0 ? smooth0 : smooth1;
                for (var gx = 0; gx < _gridWidth; gx++)
                {
                    var g = (gy * _gridWidth) + gx;
                    ChannelKernels.Slice(
                        lattice, ids + (g * corners), weights + (g * corners), 1f,
                        _activeNegUnary + ((long)g * stride), smoothRow + ((long)gx * stride), scores, stride);
                    Softmax(scores, _q.Pointer + ((long)g * stride), stride);
                }
            }
        }
    }

    /// <summary>
    /// The smoothness message of grid row pairs [start, end) for the full-resolution update: the
    /// vertical pass over the last horizontal one (zeros without the smoothness kernel).
    /// </summary>
    private void SmoothOutRowPairs(int start, int end)
    {
        for (var pair = start; pair < end; pair++)
        {
            var y = 2 * pair;
            var row0 = _smoothOut.Pointer + ((long)y * _gridWidth * _stride);
            var row1 = _smoothOut.Pointer + ((long)Math.Min(y + 1, _gridHeight - 1) * _gridWidth * _stride);
            if (_w2 > 0f)
            {
                _smooth.VerticalRows(_smoothTmp.Pointer, row0, row1, _stride, y);
            }
            else
            {
                new Span<float>(row0, _gridWidth * _stride).Clear();
                new Span<float>(row1, _gridWidth * _stride).Clear();
            }
        }
    }

    private void ClearPrunedPlanes(long plane)
    {
        var active = _activeClasses.Pointer;
        var k = 0;
        for (var c = 0; c < _classes; c++)
        {
            if (k < _active && active[k] == c)
            {
                k++;
                continue;
            }

            for (long i = 0; i < plane; i++)
            {
                _probabilities[(c * plane) + i] = 0f;
            }
        }
    }

    public void Dispose()
    {
        _workers.Dispose();
    }

    /// <summary>A pinned, grow-only array with its address, so that the parallel steps can use pointers.</summary>
    private struct Buffer<T>
        where T : unmanaged
    {
        private T[]? _array;

        public T* Pointer { get; private set; }

        public void Ensure(long length)
        {
            if (_array is not null && _array.LongLength >= length)
            {
                return;
            }

            // 25% slack, so that frame-to-frame changes of the lattice size rarely reallocate.
            _array = GC.AllocateArray<T>((int)Math.Max(length + (length / 4), 16), pinned: true);
            Pointer = (T*)Unsafe.AsPointer(ref _array[0]);
        }

        public readonly Span<T> Span(int length) => new(Pointer, length);
    }
}