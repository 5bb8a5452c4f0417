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
/// </remarks>
internal sealed unsafe class MeanFieldEngine : IWorkerStep, IDisposable
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

    private Phase _phase;
    private int _axis;
    private bool _useB;

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

    // The chunk cursor of the current step, alone on its cache line (every claim writes it).
    private const int CursorSlot = 16;
    private readonly int[] _cursor = new int[2 * CursorSlot];
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

    private enum Phase
    {
        Unary,
        Locate,
        SplatListsAndNeighbours,
        Normalise,
        SplatAndSmooth,
        Blur,
        Update,
        SmoothOut,
        FinalGrid,
        Final,
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
        RunPhase(Phase.Unary);
        ChooseActiveClasses();
        var t1 = Stopwatch.GetTimestamp();

        _lattice.BeginInsert(_workers.Parts);
        RunPhase(Phase.Locate);
        var t1a = Stopwatch.GetTimestamp();
        if (!_lattice.EndInsert())
        {
            // Inserted again serially: the ids copied during the parallel step are stale.
            CopyGridSimplices(0, _height);
        }

        _lattice.PrepareNeighbours();
        var t1b = Stopwatch.GetTimestamp();
        RunPhase(Phase.SplatListsAndNeighbours);
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
        RunPhase(Phase.Normalise);
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
            RunPhase(Phase.Update);
        }

        if (Clock() > deadline)
        {
            return false;
        }

        var t4 = Stopwatch.GetTimestamp();

        FilterAppearance();
        RunPhase(Phase.SmoothOut);
        RunPhase(Phase.FinalGrid);
        var t4b = Stopwatch.GetTimestamp();
        Array.Clear(_copied);
        RunPhase(Phase.Final);
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
        RunPhase(Phase.SplatAndSmooth);
        _useB = false;
        for (var axis = 0; axis < PermutohedralLattice.Corners; axis++)
        {
            _axis = axis;
            RunPhase(Phase.Blur);
            _useB = !_useB;
        }
    }

    private void RunPhase(Phase phase)
    {
        _phase = phase;
        _cursor[CursorSlot] = 0;
        _workers.Run(this);
    }

    void IWorkerStep.Execute(int part, int parts)
    {
        switch (_phase)
        {
            case Phase.Unary:
                {
                    var (start, end) = Share(_gridHeight, part, parts);
                    UnaryRows(part, start, end);
                    break;
                }

            case Phase.Locate:
                {
                    while (NextChunk(_height, 8, out var start, out var end))
                    {
                        _lattice.LocateRows(new ReadOnlySpan<byte>(_image, _width * _height * 3), _featureScales, start, end);
                        _lattice.InsertRows(part, start, end);
                        CopyGridSimplices(start, end);
                    }

                    break;
                }

            case Phase.SplatListsAndNeighbours:
                {
                    // The splat lists are one serial pass: the caller builds them while the other
                    // workers find blur neighbours, then joins them.
                    if (part == 0)
                    {
                        _lattice.BuildSplatLists(_gridIds.Span(_points * PermutohedralLattice.Corners), _gridWeights.Span(_points * PermutohedralLattice.Corners), _points);
                    }

                    while (NextChunk(_lattice.VertexCount, 256, out var start, out var end))
                    {
                        _lattice.FindNeighbours(start, end);
                    }

                    break;
                }

            case Phase.Normalise:
                {
                    var (start, end) = Share(_gridHeight, part, parts);
                    NormaliseRows(start, end);
                    break;
                }

            case Phase.SplatAndSmooth:
                {
                    var m = _lattice.VertexCount;
                    var latticeA = _latticeA.Pointer;
                    _lattice.Splat(_q.Pointer, latticeA, _stride, _splatSplit[part], _splatSplit[part + 1]);
                    if (part == 0)
                    {
                        new Span<float>(latticeA + ((long)m * _stride), _stride).Clear();
                        new Span<float>(_latticeB.Pointer + ((long)m * _stride), _stride).Clear();
                    }

                    // Rows of the horizontal pass go to whoever is done with its share of the splat.
                    while (_w2 > 0f && NextChunk(_gridHeight, 4, out var start, out var end))
                    {
                        _smooth.Horizontal(_q.Pointer, _smoothTmp.Pointer, _stride, start, end);
                    }

                    break;
                }

            case Phase.Blur:
                {
                    var source = _useB ? _latticeB.Pointer : _latticeA.Pointer;
                    var target = _useB ? _latticeA.Pointer : _latticeB.Pointer;
                    while (NextChunk(_lattice.VertexCount, 512, out var start, out var end))
                    {
                        _lattice.Blur(_axis, source, target, _stride, start, end);
                    }

                    break;
                }

            case Phase.Update:
                {
                    while (NextChunk((_gridHeight + 1) / 2, 2, out var start, out var end))
                    {
                        UpdateRowPairs(part, start, end);
                    }

                    break;
                }

            case Phase.SmoothOut:
                {
                    var (start, end) = Share((_gridHeight + 1) / 2, part, parts);
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

                    break;
                }

            case Phase.FinalGrid:
                {
                    while (NextChunk(_gridHeight, 2, out var start, out var end))
                    {
                        FinalRows(part, start, end, gridPass: true);
                    }

                    break;
                }

            case Phase.Final:
                {
                    // Chunks of whole grid cells, so that each prepares its cells once.
                    while (NextChunk(_height, 2 * _step, out var start, out var end))
                    {
                        FinalRows(part, start, end, gridPass: false);
                    }

                    break;
                }

            default:
                throw new UnreachableException();
        }
    }

    /// <summary>
    /// The next chunk of a step's items for whichever worker asks: the heavy steps hand out work
    /// this way instead of in fixed shares, so that a worker the OS preempts (a busy board) holds
    /// up at most one chunk while the others finish the rest. Each item's result does not depend on
    /// which worker computes it.
    /// </summary>
    private bool NextChunk(int count, int chunk, out int start, out int end)
    {
        start = Interlocked.Add(ref _cursor[CursorSlot], chunk) - chunk;
        end = Math.Min(count, start + chunk);
        return start < count;
    }

    private static (int Start, int End) Share(int count, int part, int parts) =>
        ((int)((long)count * part / parts), (int)((long)count * (part + 1) / parts));

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
            var v = (Unsafe.ReadUnaligned<Vector<float>>(top + i) * w0) + (Unsafe.ReadUnaligned<Vector<float>>(bottom + i) * w1);
            Unsafe.WriteUnaligned(row + i, v);
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
                    var z = (Unsafe.ReadUnaligned<Vector<float>>(a + k) * new Vector<float>(tap.Weight0))
                        + (Unsafe.ReadUnaligned<Vector<float>>(b + k) * new Vector<float>(tap.Weight1));
                    Unsafe.WriteUnaligned(target + k, z);
                    max = Vector.Max(max, z);
                }

                var m = VectorMath.HorizontalMax(max);
                var sum = Vector<float>.Zero;
                for (var k = 0; k < stride; k += vw)
                {
                    sum += VectorMath.Exp(Unsafe.ReadUnaligned<Vector<float>>(target + k) - new Vector<float>(m));
                }

                var logSum = new Vector<float>(m + MathF.Log(Vector.Sum(sum)));
                for (var k = 0; k < stride; k += vw)
                {
                    var logP = Vector.Max(Unsafe.ReadUnaligned<Vector<float>>(target + k) - logSum, floor) + Unsafe.ReadUnaligned<Vector<float>>(padding + k);
                    Unsafe.WriteUnaligned(target + k, logP);
                    Unsafe.WriteUnaligned(classMax + k, Vector.Max(Unsafe.ReadUnaligned<Vector<float>>(classMax + k), logP));
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
            max = Vector.Max(max, Unsafe.ReadUnaligned<Vector<float>>(scores + k));
        }

        var m = new Vector<float>(VectorMath.HorizontalMax(max));
        var sum = Vector<float>.Zero;
        for (var k = 0; k < stride; k += vw)
        {
            var e = VectorMath.Exp(Unsafe.ReadUnaligned<Vector<float>>(scores + k) - m);
            Unsafe.WriteUnaligned(q + k, e);
            sum += e;
        }

        var inv = new Vector<float>(1f / Vector.Sum(sum));
        for (var k = 0; k < stride; k += vw)
        {
            Unsafe.WriteUnaligned(q + k, Unsafe.ReadUnaligned<Vector<float>>(q + k) * inv);
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
    /// The last update at full resolution: logits interpolated at the pixel, the appearance message
    /// sliced at the pixel's own lattice position and normalised with its own n, the smoothness
    /// message interpolated from the grid; argmax → labels, softmax → probabilities.
    /// <paramref name="gridPass"/>: grid rows [start, end), the pixels of the working grid only,
    /// whose labels (where their best score leads by at least the copy margin) are kept for the
    /// second pass. Otherwise frame rows [start, end), every pixel not on the grid: one whose four
    /// surrounding grid pixels share a confident label and whose colour is within the copy
    /// tolerance of all four takes that label without its own update (see
    /// <see cref="CrfOptions.CopyMargin"/>), the others are updated.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void FinalRows(int part, int start, int end, bool gridPass)
    {
        const int corners = PermutohedralLattice.Corners;
        var stride = _stride;
        var vw = Vector<float>.Count;
        var logitRow = _rowA[part].Pointer;
        var smoothRow = _rowB[part].Pointer;
        var lattice = _latticeA.Pointer;
        var ones = _onesA.Pointer;
        var padding = _paddingActive.Pointer;
        var scores = stackalloc float[stride];
        var logits = stackalloc float[stride];
        var messages = stackalloc float[stride];
        var active = _activeClasses.Pointer;
        var gridLabel = _gridLabel.Pointer;
        var image = _image;
        var plane = (long)_width * _height;
        var step = _step;
        var invStep = 1f / step;
        var w1 = _w1;
        var width = _width;
        var gridWidth = _gridWidth;
        var xStep = gridPass ? step : 1;

        // Copying needs labels only: with probabilities asked for every pixel is updated.
        var copy = _probabilities == null && _copyMargin > 0f;
        var copyMargin = _copyMargin;
        var tolerance = _copyTolerance;
        var copied = 0L;
        var cells = _cells[part].Pointer;
        var labels = _labels;

        // A class whose p is clipped at 1e-8 scores at most logsumexp(z) − 18.42 + its message, and
        // logsumexp(z) ≤ max z + ln(classes): below that margin the clip cannot change the argmax.
        var clipMargin = CrfUnary.MaxEnergy - MathF.Log(_active);
        fixed (int* allIds = _lattice.PixelVertices)
        fixed (float* allWeights = _lattice.PixelWeights)
        {
            for (var r = start; r < end; r++)
            {
                var y = gridPass ? r * step : r;
                var gy0 = y / step;
                var gy1 = Math.Min(gy0 + 1, _gridHeight - 1);
                var onGridRow = y == gy0 * step;
                if (copy && !gridPass && (r == start || gy0 != (r - 1) / step))
                {
                    PrepareCells(cells, gy0, gy1, tolerance);
                }

                var prepared = false;

                // x = gx0·step + ox, kept incrementally: a division per pixel would cost as much as the copy test.
                var gx0 = -1;
                var ox = step;
                for (var x = 0; x < width; x += xStep, ox += xStep)
                {
                    if (ox >= step)
                    {
                        ox -= step;
                        gx0++;
                    }

                    var p = (y * width) + x;
                    var gx1 = Math.Min(gx0 + 1, gridWidth - 1);
                    if (!gridPass)
                    {
                        if (onGridRow && ox == 0)
                        {
                            continue;
                        }

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
                    }

                    if (!prepared)
                    {
                        prepared = true;
                        InterpolateScoreRow(_activeLogits, stride, y, logitRow);
                        var fy = new Vector<float>((y - (gy0 * step)) * invStep);
                        var top = _smoothOut.Pointer + ((long)gy0 * gridWidth * stride);
                        var bottom = _smoothOut.Pointer + ((long)gy1 * gridWidth * stride);
                        for (var i = 0; i < gridWidth * stride; i += vw)
                        {
                            var a = Unsafe.ReadUnaligned<Vector<float>>(top + i);
                            Unsafe.WriteUnaligned(smoothRow + i, Vector.FusedMultiplyAdd(Unsafe.ReadUnaligned<Vector<float>>(bottom + i) - a, fy, a));
                        }
                    }

                    var id = allIds + ((long)p * corners);
                    var w = allWeights + ((long)p * corners);
                    var d = 0f;
                    for (var c = 0; c < corners; c++)
                    {
                        d += w[c] * ones[id[c]];
                    }

                    // Pixels whose whole simplex holds no grid vertex get no appearance message.
                    var n = d > 1e-12f ? w1 / MathF.Sqrt(d) : 0f;
                    var tap = _xTaps[x];
                    var la = logitRow + ((long)tap.Index0 * stride);
                    var lb = logitRow + ((long)tap.Index1 * stride);
                    var fx = new Vector<float>(ox * invStep);
                    var sa = smoothRow + ((long)gx0 * stride);
                    var sb = smoothRow + ((long)gx1 * stride);
                    var maxMessage = new Vector<float>(float.NegativeInfinity);
                    var maxScore = new Vector<float>(float.NegativeInfinity);
                    ChannelKernels.Slice(lattice, id, w, n, null, null, messages, stride);
                    for (var k = 0; k < stride; k += vw)
                    {
                        var z = (Unsafe.ReadUnaligned<Vector<float>>(la + k) * new Vector<float>(tap.Weight0))
                            + (Unsafe.ReadUnaligned<Vector<float>>(lb + k) * new Vector<float>(tap.Weight1));
                        var s0 = Unsafe.ReadUnaligned<Vector<float>>(sa + k);
                        var message = Vector.FusedMultiplyAdd(Unsafe.ReadUnaligned<Vector<float>>(sb + k) - s0, fx, s0)
                            + Unsafe.ReadUnaligned<Vector<float>>(messages + k);

                        // −U + logsumexp(z) = z for unclipped classes: the logsumexp is common to all
                        // classes, so the argmax needs it only where the clip might matter.
                        var score = z + message;
                        Unsafe.WriteUnaligned(scores + k, score);
                        Unsafe.WriteUnaligned(messages + k, message);
                        maxMessage = Vector.Max(maxMessage, message);
                        maxScore = Vector.Max(maxScore, score);
                    }

                    var bestScore = VectorMath.HorizontalMax(maxScore);
                    var best = ArgMax(scores, stride, bestScore);

                    // The best score is at least max z (messages are sums of non-negative terms), so
                    // a clipped class can only win where some message exceeds the clip margin.
                    if (_probabilities != null || VectorMath.HorizontalMax(maxMessage) >= clipMargin)
                    {
                        var zMax = float.NegativeInfinity;
                        for (var k = 0; k < stride; k++)
                        {
                            logits[k] = (la[k] * tap.Weight0) + (lb[k] * tap.Weight1);
                            zMax = MathF.Max(zMax, logits[k]);
                        }

                        best = ExactScores(logits, messages, scores, stride, zMax, padding);
                        bestScore = scores[best];
                        if (_probabilities != null)
                        {
                            Softmax(scores, scores, stride);
                            for (var k = 0; k < _active; k++)
                            {
                                _probabilities[(active[k] * plane) + p] = scores[k];
                            }
                        }
                    }

                    if (gridPass)
                    {
                        gridLabel[(gy0 * gridWidth) + gx0] = copy && SecondBest(scores, stride, best) <= bestScore - copyMargin ? best : -1;
                    }

                    labels[p] = (byte)active[best];
                }
            }
        }

        if (!gridPass)
        {
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
            max = Vector.Max(max, Unsafe.ReadUnaligned<Vector<float>>(scores + k));
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
            sum += VectorMath.Exp(Unsafe.ReadUnaligned<Vector<float>>(logits + k) - new Vector<float>(zMax));
        }

        var logSum = new Vector<float>(zMax + MathF.Log(Vector.Sum(sum)));
        var floor = new Vector<float>(-CrfUnary.MaxEnergy);
        var max = new Vector<float>(float.NegativeInfinity);
        for (var k = 0; k < stride; k += vw)
        {
            var z = Unsafe.ReadUnaligned<Vector<float>>(logits + k);
            var s = Vector.Max(z - logSum, floor) + Unsafe.ReadUnaligned<Vector<float>>(padding + k) + Unsafe.ReadUnaligned<Vector<float>>(messages + k);
            Unsafe.WriteUnaligned(scores + k, s);
            max = Vector.Max(max, s);
        }

        return ArgMax(scores, stride, VectorMath.HorizontalMax(max));
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

    /// <summary>First index whose score equals <paramref name="max"/> (the argmax, ties to the lowest class).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ArgMax(float* scores, int stride, float max)
    {
        var vw = Vector<float>.Count;
        var target = new Vector<float>(max);
        for (var k = 0; k < stride; k += vw)
        {
            var hits = Vector.Equals(Unsafe.ReadUnaligned<Vector<float>>(scores + k), target);
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
