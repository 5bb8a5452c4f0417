using System.Numerics;
using System.Runtime.CompilerServices;

namespace EdgeSeg.Pipeline.Refinement;

/// <summary>
/// The permutohedral lattice (Adams, Baek &amp; Davis 2010) for the 5-D appearance features
/// (x/θα, y/θα, R/θβ, G/θβ, B/θβ): Gaussian filtering in feature space becomes splat onto the
/// vertices of the enclosing simplex, a [½ 1 ½] blur along each of the 6 lattice axes, and a slice
/// back with the same barycentric weights. Elevation scales follow the paper so that the blur
/// approximates exp(−|fi − fj|²/2), the kernel of the reference implementation.
/// </summary>
/// <remarks>
/// Built once per frame: every pixel of the frame is located in the lattice (so the last mean-field
/// update can slice at full resolution, keeping edges sharp), but only the pixels of the working grid
/// create vertices and are splatted. Vertices are keyed by their first five integer coordinates
/// packed 12 bits each into a <see cref="long"/>; the sixth is minus their sum.
/// </remarks>
internal sealed unsafe class PermutohedralLattice
{
    public const int Dims = 5;
    public const int Corners = Dims + 1;
    /// <summary>Bits of each packed key coordinate (the tests' scalar locator packs keys the same way).</summary>
    public const int FieldBits = 12;

    /// <summary>Offset that makes a key coordinate non-negative before it is packed.</summary>
    public const int FieldBias = 1 << (FieldBits - 1);

    /// <summary>Largest absolute elevated coordinate the packed keys can hold (with margin for the simplex offsets).</summary>
    public const float MaxElevated = FieldBias - 16;

    private readonly long[] _axisDelta = new long[Corners];

    // Per pixel of the frame (row-major), Corners entries each.
    private int[] _pixelVertex = [];
    private float[] _pixelWeight = [];
    private long[] _pixelKey = [];
    private int[] _pixelRank = [];

    private readonly VertexTable _table = new();

    private long[] _vertexKeys = [];
    private int[] _neighbours = [];

    // Vertex ids are handed out by an atomic counter while the workers insert concurrently; past
    // _insertLimit (what the table and key list hold without growing) they stop inserting and the
    // frame's insertion is redone serially with room to grow.
    private int _nextId;
    private int _insertLimit;
    private int _overflow;

    private const int CacheBits = 12;
    private SimplexCache[] _caches = [];

    private int[] _csrStart = [];
    private int[] _csrPoint = [];
    private float[] _csrWeight = [];

    public PermutohedralLattice()
    {
        // Step along lattice axis j: +1 on every coordinate but −Dims on coordinate j. For j = Dims
        // the −Dims falls on the implicit sixth coordinate.
        for (var j = 0; j < Corners; j++)
        {
            long delta = 0;
            for (var i = 0; i < Dims; i++)
            {
                delta += (i == j ? -Dims : 1L) << (FieldBits * i);
            }

            _axisDelta[j] = delta;
        }
    }

    /// <summary>Number of lattice vertices created by the last build.</summary>
    public int VertexCount { get; private set; }

    public int Width { get; private set; }

    public int Height { get; private set; }

    /// <summary>Vertex ids of the simplex around each pixel, <see cref="Corners"/> per pixel; missing vertices point at <see cref="VertexCount"/> (a zero row).</summary>
    public ReadOnlySpan<int> PixelVertices => _pixelVertex.AsSpan(0, Width * Height * Corners);

    /// <summary>Packed remainder-0 vertex of each pixel's simplex.</summary>
    internal ReadOnlySpan<long> PixelKeys => _pixelKey.AsSpan(0, Width * Height);

    /// <summary>Coordinate ranks of each pixel (3 bits per coordinate, first five coordinates).</summary>
    internal ReadOnlySpan<int> PixelRanks => _pixelRank.AsSpan(0, Width * Height);

    /// <summary>Barycentric weights matching <see cref="PixelVertices"/>.</summary>
    public ReadOnlySpan<float> PixelWeights => _pixelWeight.AsSpan(0, Width * Height * Corners);

    /// <summary>For vertex v and axis j: neighbour ids at [(v·Corners + j)·2] (minus side) and +1 (plus side).</summary>
    public ReadOnlySpan<int> Neighbours => _neighbours.AsSpan(0, VertexCount * Corners * 2);

    /// <summary>The per-dimension factors that take (x, y, R, G, B) to scaled lattice features.</summary>
    public static void FeatureScales(float spatialSigma, float colorSigma, Span<float> scales)
    {
        // sqrt(2/3)·(d+1) is the inverse standard deviation the lattice blur approximates; dividing
        // by sqrt((i+1)(i+2)) makes the elevation matrix's rows orthogonal with equal norms.
        var inverseStd = MathF.Sqrt(2f / 3f) * Corners;
        for (var i = 0; i < Dims; i++)
        {
            var sigma = i < 2 ? spatialSigma : colorSigma;
            scales[i] = inverseStd / MathF.Sqrt((i + 1) * (i + 2)) / sigma;
        }
    }

    /// <summary>
    /// Largest elevated coordinate the frame can produce; keys overflow beyond <see cref="MaxElevated"/>.
    /// </summary>
    public static float ElevatedBound(int width, int height, float spatialSigma, float colorSigma)
    {
        Span<float> s = stackalloc float[Dims];
        FeatureScales(spatialSigma, colorSigma, s);
        var cf = new[] { (width - 1) * s[0], (height - 1) * s[1], 255f * s[2], 255f * s[3], 255f * s[4] };
        var sum = cf.Sum();
        return sum + (Dims * cf.Max());
    }

    public void EnsureCapacity(int width, int height)
    {
        var n = width * height;
        if (_pixelVertex.Length < n * Corners)
        {
            _pixelVertex = GC.AllocateUninitializedArray<int>(n * Corners);
            _pixelWeight = GC.AllocateUninitializedArray<float>(n * Corners);
            _pixelKey = GC.AllocateUninitializedArray<long>(n);
            _pixelRank = GC.AllocateUninitializedArray<int>(n);
        }

        Width = width;
        Height = height;
    }

    /// <summary>
    /// Step 1 (parallel by rows): elevates every pixel of rows [rowStart, rowEnd) and records the
    /// enclosing simplex (packed remainder-0 vertex and coordinate ranks) and barycentric weights.
    /// Vectorised across <see cref="Vector{T}.Count"/> pixels of a row; the barycentric weights come
    /// from the residuals sorted by a 12-comparator network instead of rank-indexed scatters.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void LocateRows(ReadOnlySpan<byte> bgr, ReadOnlySpan<float> scales, int rowStart, int rowEnd)
    {
        var vw = Vector<float>.Count;
        var width = Width;
        var a0 = new Vector<float>(scales[0]);
        var a2 = new Vector<float>(scales[2]);
        var a3 = new Vector<float>(scales[3]);
        var a4 = new Vector<float>(scales[4]);
        var sixth = new Vector<float>(1f / Corners);
        var six = new Vector<float>(Corners);
        var sixInt = new Vector<int>(Corners);
        var bias = new Vector<long>(FieldBias);
        var lane = stackalloc float[vw];
        var red = stackalloc float[vw];
        var green = stackalloc float[vw];
        var blue = stackalloc float[vw];
        var keyOut = stackalloc long[vw];
        var codeOut = stackalloc int[vw];
        var weightOut = stackalloc float[vw * Corners];
        for (var i = 0; i < vw; i++)
        {
            lane[i] = i;
        }

        var laneVector = Vector.Load(lane);
        fixed (byte* image = bgr)
        fixed (long* keys = _pixelKey)
        fixed (int* ranks = _pixelRank)
        fixed (float* weights = _pixelWeight)
        {
            for (var y = rowStart; y < rowEnd; y++)
            {
                var cf1 = new Vector<float>(y * scales[1]);
                for (var x0 = 0; x0 < width; x0 += vw)
                {
                    var count = Math.Min(vw, width - x0);
                    var row = image + (((long)y * width) + x0) * 3;
                    for (var i = 0; i < vw; i++)
                    {
                        var px = row + (Math.Min(i, count - 1) * 3);
                        blue[i] = px[0];
                        green[i] = px[1];
                        red[i] = px[2];
                    }

                    var cf0 = (new Vector<float>(x0) + laneVector) * a0;
                    var cf2 = Vector.Load(red) * a2;
                    var cf3 = Vector.Load(green) * a3;
                    var cf4 = Vector.Load(blue) * a4;

                    var e5 = cf4 * new Vector<float>(-5f);
                    var sm = cf4;
                    var e4 = sm - (cf3 * new Vector<float>(4f));
                    sm += cf3;
                    var e3 = sm - (cf2 * new Vector<float>(3f));
                    sm += cf2;
                    var e2 = sm - (cf1 * new Vector<float>(2f));
                    sm += cf1;
                    var e1 = sm - cf0;
                    var e0 = sm + cf0;

                    var r0 = Vector.Round(e0 * sixth) * six;
                    var r1 = Vector.Round(e1 * sixth) * six;
                    var r2 = Vector.Round(e2 * sixth) * six;
                    var r3 = Vector.Round(e3 * sixth) * six;
                    var r4 = Vector.Round(e4 * sixth) * six;
                    var r5 = Vector.Round(e5 * sixth) * six;
                    var sum = Vector.ConvertToInt32((r0 + r1 + r2 + r3 + r4 + r5) * sixth);

                    var k0 = Vector<int>.Zero;
                    var k1 = Vector<int>.Zero;
                    var k2 = Vector<int>.Zero;
                    var k3 = Vector<int>.Zero;
                    var k4 = Vector<int>.Zero;
                    var k5 = Vector<int>.Zero;
                    var d0 = e0 - r0;
                    var d1 = e1 - r1;
                    var d2 = e2 - r2;
                    var d3 = e3 - r3;
                    var d4 = e4 - r4;
                    var d5 = e5 - r5;
                    Rank(d0, d1, ref k0, ref k1);
                    Rank(d0, d2, ref k0, ref k2);
                    Rank(d0, d3, ref k0, ref k3);
                    Rank(d0, d4, ref k0, ref k4);
                    Rank(d0, d5, ref k0, ref k5);
                    Rank(d1, d2, ref k1, ref k2);
                    Rank(d1, d3, ref k1, ref k3);
                    Rank(d1, d4, ref k1, ref k4);
                    Rank(d1, d5, ref k1, ref k5);
                    Rank(d2, d3, ref k2, ref k3);
                    Rank(d2, d4, ref k2, ref k4);
                    Rank(d2, d5, ref k2, ref k5);
                    Rank(d3, d4, ref k3, ref k4);
                    Rank(d3, d5, ref k3, ref k5);
                    Rank(d4, d5, ref k4, ref k5);

                    // Fix the remainder-0 point so its coordinates sum to 0 (the tests' ScalarLatticeLocation spells this step out).
                    var positive = Vector.GreaterThan(sum, Vector<int>.Zero);
                    var negative = Vector.LessThan(sum, Vector<int>.Zero);
                    var upper = sixInt - sum;
                    var lower = -sum;
                    Fix(ref r0, ref k0, sum, positive, negative, upper, lower, sixInt);
                    Fix(ref r1, ref k1, sum, positive, negative, upper, lower, sixInt);
                    Fix(ref r2, ref k2, sum, positive, negative, upper, lower, sixInt);
                    Fix(ref r3, ref k3, sum, positive, negative, upper, lower, sixInt);
                    Fix(ref r4, ref k4, sum, positive, negative, upper, lower, sixInt);
                    Fix(ref r5, ref k5, sum, positive, negative, upper, lower, sixInt);

                    // Residuals sorted in decreasing order: s0 ≥ … ≥ s5.
                    var s0 = e0 - r0;
                    var s1 = e1 - r1;
                    var s2 = e2 - r2;
                    var s3 = e3 - r3;
                    var s4 = e4 - r4;
                    var s5 = e5 - r5;
                    Exchange(ref s0, ref s5);
                    Exchange(ref s1, ref s3);
                    Exchange(ref s2, ref s4);
                    Exchange(ref s1, ref s2);
                    Exchange(ref s3, ref s4);
                    Exchange(ref s0, ref s3);
                    Exchange(ref s2, ref s5);
                    Exchange(ref s0, ref s1);
                    Exchange(ref s2, ref s3);
                    Exchange(ref s4, ref s5);
                    Exchange(ref s1, ref s2);
                    Exchange(ref s3, ref s4);

                    // Barycentric weight of corner k is (s[5−k] − s[6−k])/6, corner 0 gets 1 + (s5 − s0)/6.
                    Vector.Store(Vector<float>.One + ((s5 - s0) * sixth), weightOut);
                    Vector.Store((s4 - s5) * sixth, weightOut + vw);
                    Vector.Store((s3 - s4) * sixth, weightOut + (2 * vw));
                    Vector.Store((s2 - s3) * sixth, weightOut + (3 * vw));
                    Vector.Store((s1 - s2) * sixth, weightOut + (4 * vw));
                    Vector.Store((s0 - s1) * sixth, weightOut + (5 * vw));

                    var code = k0 | (k1 << 3) | (k2 << 6) | (k3 << 9) | (k4 << 12);
                    code.Store(codeOut);
                    Vector.Widen(Vector.ConvertToInt32(r0), out Vector<long> lo0, out Vector<long> hi0);
                    Vector.Widen(Vector.ConvertToInt32(r1), out Vector<long> lo1, out Vector<long> hi1);
                    Vector.Widen(Vector.ConvertToInt32(r2), out Vector<long> lo2, out Vector<long> hi2);
                    Vector.Widen(Vector.ConvertToInt32(r3), out Vector<long> lo3, out Vector<long> hi3);
                    Vector.Widen(Vector.ConvertToInt32(r4), out Vector<long> lo4, out Vector<long> hi4);
                    var keyLo = (lo0 + bias) | ((lo1 + bias) << FieldBits) | ((lo2 + bias) << (2 * FieldBits)) | ((lo3 + bias) << (3 * FieldBits)) | ((lo4 + bias) << (4 * FieldBits));
                    var keyHi = (hi0 + bias) | ((hi1 + bias) << FieldBits) | ((hi2 + bias) << (2 * FieldBits)) | ((hi3 + bias) << (3 * FieldBits)) | ((hi4 + bias) << (4 * FieldBits));
                    keyLo.Store(keyOut);
                    keyHi.Store(keyOut + Vector<long>.Count);

                    var p0 = (y * width) + x0;
                    for (var i = 0; i < count; i++)
                    {
                        keys[p0 + i] = keyOut[i];
                        ranks[p0 + i] = codeOut[i];
                        var w = weights + ((long)(p0 + i) * Corners);
                        for (var k = 0; k < Corners; k++)
                        {
                            w[k] = weightOut[(k * vw) + i];
                        }
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Rank(Vector<float> di, Vector<float> dj, ref Vector<int> ki, ref Vector<int> kj)
    {
        // di < dj: rank i grows, else rank j grows (ties go to the later coordinate, as in the scalar code).
        var less = Vector.LessThan(di, dj);
        ki -= less;
        kj += less + Vector<int>.One;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Fix(
        ref Vector<float> r, ref Vector<int> k, Vector<int> sum, Vector<int> positive, Vector<int> negative,
        Vector<int> upper, Vector<int> lower, Vector<int> six)
    {
        // sum > 0: coordinates ranked ≥ 6 − sum drop by 6; sum < 0: those ranked < −sum rise by 6.
        var down = positive & Vector.GreaterThanOrEqual(k, upper);
        var up = negative & Vector.LessThan(k, lower);
        var shift = (down - up) * six;
        r += Vector.ConvertToSingle(shift);
        k += sum + shift;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Exchange(ref Vector<float> a, ref Vector<float> b)
    {
        var max = Vector.Max(a, b);
        b = Vector.Min(a, b);
        a = max;
    }

    /// <summary>
    /// Before <see cref="InsertRows"/>: empties the table (sized from the last frame's vertex count,
    /// so that a warm lattice never grows) and the per-worker simplex caches.
    /// </summary>
    public void BeginInsert(int parts)
    {
        if (_caches.Length < parts)
        {
            _caches = new SimplexCache[parts];
            for (var i = 0; i < parts; i++)
            {
                _caches[i] = new SimplexCache();
            }
        }

        // The caches stay valid for the whole frame (ids are the frame's), whichever rows a worker gets.
        for (var i = 0; i < parts; i++)
        {
            _caches[i].Clear();
        }

        PrepareTable(Math.Max(VertexCount * 2, 16384));
        VertexCount = 0;
        _nextId = 0;
        _overflow = 0;
        _insertLimit = Math.Min(_vertexKeys.Length, _table.Capacity / 2);
    }

    /// <summary>
    /// Step 2 (parallel by rows, after <see cref="LocateRows"/> of the same rows): creates the
    /// vertices of the simplices around the pixels of rows [rowStart, rowEnd) and records their ids.
    /// Pixels of one region share few simplices, so a direct-mapped cache of simplex → 6 ids per
    /// worker answers most pixels without touching the shared hash table. Ids depend on which worker
    /// got to a vertex first, but no value does: splat lists are ordered by point, the blur and the
    /// slice address vertices by key and corner. Every pixel's vertices exist, so the full-resolution
    /// slice sees the blurred values all around it even though only the working grid splats.
    /// </summary>
    public void InsertRows(int part, int rowStart, int rowEnd) => InsertRowsCore(_caches[part], rowStart, rowEnd, concurrent: true);

    /// <summary>
    /// After every <see cref="InsertRows"/>: settles the vertex count; when the concurrent insertion
    /// ran out of room (a frame with many more vertices than the last), redoes it serially with a
    /// growing table and returns false (the pixel ids have changed).
    /// </summary>
    public bool EndInsert()
    {
        if (Volatile.Read(ref _overflow) == 0)
        {
            VertexCount = _nextId;
            return true;
        }

        PrepareTable(Math.Max(_nextId * 2, _vertexKeys.Length * 2));
        VertexCount = 0;
        _caches[0].Clear();
        InsertRowsCore(_caches[0], 0, Height, concurrent: false);
        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void InsertRowsCore(SimplexCache cache, int rowStart, int rowEnd, bool concurrent)
    {
        var byRank = stackalloc int[Corners];
        var ones = 0L;
        for (var i = 0; i < Dims; i++)
        {
            ones += 1L << (FieldBits * i);
        }

        long lastKey = 0;
        var lastCode = -1;
        fixed (long* keys = _pixelKey)
        fixed (int* ranks = _pixelRank)
        fixed (int* ids = _pixelVertex)
        fixed (long* cacheKeys = cache.Keys)
        fixed (int* cacheCodes = cache.Codes)
        fixed (int* cacheIds = cache.Ids)
        {
            for (var p = rowStart * Width; p < rowEnd * Width; p++)
            {
                var id = ids + ((long)p * Corners);
                var key = keys[p];
                var code = ranks[p];
                if (key == lastKey && code == lastCode)
                {
                    CopyIds(id - Corners, id);
                    continue;
                }

                lastKey = key;
                lastCode = code;
                var slot = (int)((((ulong)key * VertexTable.HashMultiplier) ^ ((ulong)code * 0xC2B2AE3D27D4EB4FUL)) >> (64 - CacheBits));
                var cached = cacheIds + (slot * Corners);
                if (cacheKeys[slot] == key && cacheCodes[slot] == code)
                {
                    CopyIds(cached, id);
                    continue;
                }

                // Corner k adds 1 to every coordinate of corner k−1 and takes 6 from the coordinate
                // ranked 6−k (nothing to pack when that is the implicit sixth coordinate).
                for (var r = 0; r < Corners; r++)
                {
                    byRank[r] = Dims;
                }

                for (var i = 0; i < Dims; i++)
                {
                    byRank[(code >> (3 * i)) & 7] = i;
                }

                var k0 = key;
                id[0] = concurrent ? ConcurrentFindOrInsert(k0) : FindOrInsert(k0);
                for (var k = 1; k < Corners; k++)
                {
                    k0 += ones;
                    var j = byRank[Corners - k];
                    if (j < Dims)
                    {
                        k0 -= (long)Corners << (FieldBits * j);
                    }

                    id[k] = concurrent ? ConcurrentFindOrInsert(k0) : FindOrInsert(k0);
                }

                cacheKeys[slot] = key;
                cacheCodes[slot] = code;
                CopyIds(id, cached);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyIds(int* from, int* to) => Unsafe.CopyBlockUnaligned(to, from, Corners * sizeof(int));

    /// <summary>Step 4 (parallel by vertex ranges): the blur neighbours of vertices [start, end).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void FindNeighbours(int start, int end)
    {
        var missing = VertexCount;
        for (var v = start; v < end; v++)
        {
            var key = _vertexKeys[v];
            var o = v * Corners * 2;
            for (var j = 0; j < Corners; j++)
            {
                var minus = _table.Find(key - _axisDelta[j]);
                var plus = _table.Find(key + _axisDelta[j]);
                _neighbours[o + (2 * j)] = minus < 0 ? missing : minus;
                _neighbours[o + (2 * j) + 1] = plus < 0 ? missing : plus;
            }
        }
    }

    /// <summary>
    /// One blur pass along axis <paramref name="axis"/> over vertices [start, end):
    /// dst = src + ½(src[minus] + src[plus]), <paramref name="stride"/> floats per vertex, row
    /// <see cref="VertexCount"/> of <paramref name="src"/> must be zeros.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Blur(int axis, float* src, float* dst, int stride, int start, int end)
    {
        var half = new Vector<float>(0.5f);
        var width = Vector<float>.Count;
        fixed (int* nb = _neighbours)
        {
            for (var v = start; v < end; v++)
            {
                var pair = nb + (((v * Corners) + axis) * 2);
                var self = src + ((long)v * stride);
                var minus = src + ((long)pair[0] * stride);
                var plus = src + ((long)pair[1] * stride);
                var output = dst + ((long)v * stride);
                for (var k = 0; k < stride; k += width)
                {
                    var sumNeighbours = Vector.Load(minus + k) + Vector.Load(plus + k);
                    var result = Vector.FusedMultiplyAdd(sumNeighbours, half, Vector.Load(self + k));
                    result.Store(output + k);
                }
            }
        }
    }

    /// <summary>Scalar blur pass (one value per vertex), used for the normalisation.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void BlurScalar(int axis, float* src, float* dst, int start, int end)
    {
        fixed (int* nb = _neighbours)
        {
            for (var v = start; v < end; v++)
            {
                var pair = nb + (((v * Corners) + axis) * 2);
                dst[v] = src[v] + (0.5f * (src[pair[0]] + src[pair[1]]));
            }
        }
    }

    /// <summary>Packed offset of corner <paramref name="k"/> of the canonical simplex, permuted by the ranks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long CornerOffset(int code, int k)
    {
        if (k == 0)
        {
            return 0;
        }

        long offset = 0;
        for (var i = 0; i < Dims; i++)
        {
            var r = (code >> (3 * i)) & 7;
            offset += (long)(r <= Dims - k ? k : k - Corners) << (FieldBits * i);
        }

        return offset;
    }

    private void PrepareTable(int expectedVertices)
    {
        _table.Reset(Math.Max(expectedVertices * 2, 1024));
        if (_vertexKeys.Length < expectedVertices)
        {
            _vertexKeys = new long[expectedVertices];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int FindOrInsert(long key)
    {
        if (_table.Probe(key, out var slot))
        {
            return _table.IdAt(slot);
        }

        var id = VertexCount;
        if ((id + 1) * 2 > _table.Capacity)
        {
            Grow();
            return FindOrInsert(key);
        }

        if (id >= _vertexKeys.Length)
        {
            Array.Resize(ref _vertexKeys, _vertexKeys.Length * 2);
        }

        _table.Insert(slot, key, id);
        _vertexKeys[id] = key;
        VertexCount = id + 1;
        return id;
    }

    /// <summary>
    /// <see cref="FindOrInsert"/> for several workers at once: a slot is claimed by a compare-and-swap
    /// of its key, the id comes from an atomic counter and is published after the vertex's key is
    /// recorded; a worker that finds a claimed slot waits for its id.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int ConcurrentFindOrInsert(long key)
    {
        while (true)
        {
            if (_table.Probe(key, out var slot))
            {
                var found = _table.WaitForId(slot);
                return found == VertexTable.Abandoned ? VertexCount : found;
            }

            if (Volatile.Read(ref _overflow) != 0)
            {
                return VertexCount;
            }

            if (!_table.TryClaim(slot, key))
            {
                continue;
            }

            var id = Interlocked.Increment(ref _nextId) - 1;
            if (id >= _insertLimit)
            {
                // Out of room: stop every worker inserting; EndInsert starts over serially.
                Volatile.Write(ref _overflow, 1);
                _table.Publish(slot, VertexTable.Abandoned);
                return VertexCount;
            }

            _vertexKeys[id] = key;
            _table.Publish(slot, id);
            return id;
        }
    }

    /// <summary>A direct-mapped cache of simplex (remainder-0 key, ranks) → its 6 vertex ids, one per worker.</summary>
    private sealed class SimplexCache
    {
        public readonly long[] Keys = new long[1 << CacheBits];
        public readonly int[] Codes = new int[1 << CacheBits];
        public readonly int[] Ids = new int[(1 << CacheBits) * Corners];

        public void Clear() => Array.Clear(Keys);
    }

    /// <summary>Doubles the table and inserts the vertices created so far again.</summary>
    private void Grow()
    {
        _table.Reset(_table.Capacity * 2);
        for (var id = 0; id < VertexCount; id++)
        {
            var key = _vertexKeys[id];
            _table.Probe(key, out var slot);
            _table.Insert(slot, key, id);
        }
    }

    /// <summary>Sizes the neighbour table once the vertex count is known (after <see cref="EndInsert"/>).</summary>
    public void PrepareNeighbours()
    {
        var needed = VertexCount * Corners * 2;
        if (_neighbours.Length < needed)
        {
            _neighbours = new int[needed + (needed / 4)];
        }
    }

    /// <summary>
    /// Builds, for every vertex, the list of grid points splatting onto it (a transposed splat), so
    /// that splatting is a gather parallel over vertices. <paramref name="pointIds"/> and
    /// <paramref name="pointWeights"/> hold <see cref="Corners"/> entries per grid point.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void BuildSplatLists(ReadOnlySpan<int> pointIds, ReadOnlySpan<float> pointWeights, int points)
    {
        var m = VertexCount;
        if (_csrStart.Length < m + 2)
        {
            _csrStart = new int[m + 2 + (m / 4)];
        }

        var entries = points * Corners;
        if (_csrPoint.Length < entries)
        {
            _csrPoint = new int[entries];
            _csrWeight = new float[entries];
        }

        var start = _csrStart.AsSpan(0, m + 2);
        start.Clear();
        for (var e = 0; e < entries; e++)
        {
            start[pointIds[e] + 2]++;
        }

        for (var v = 2; v < m + 2; v++)
        {
            start[v] += start[v - 1];
        }

        // start[v + 1] is now the first entry of v; filling advances it to the end of v, i.e. start[v + 2]'s old value.
        for (var g = 0; g < points; g++)
        {
            for (var k = 0; k < Corners; k++)
            {
                var e = (g * Corners) + k;
                var v = pointIds[e];
                if (v >= m)
                {
                    continue;
                }

                var slot = start[v + 1]++;
                _csrPoint[slot] = g;
                _csrWeight[slot] = pointWeights[e];
            }
        }
    }

    /// <summary>First splat entry of vertex v is SplatStart[v], one past its last SplatStart[v + 1].</summary>
    public ReadOnlySpan<int> SplatStart => _csrStart.AsSpan(0, VertexCount + 1);

    /// <summary>Multiplies each splat weight by a per-point factor (the kernel normalisation).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void ScaleSplatWeights(ReadOnlySpan<float> pointFactor)
    {
        var total = _csrStart[VertexCount];
        for (var e = 0; e < total; e++)
        {
            _csrWeight[e] *= pointFactor[_csrPoint[e]];
        }
    }

    /// <summary>Gathers lattice values of vertices [start, end) from the grid points: lattice[v] = Σ w·values[point].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Splat(float* values, float* lattice, int stride, int start, int end)
    {
        fixed (int* csr = _csrStart)
        fixed (int* points = _csrPoint)
        fixed (float* weights = _csrWeight)
        {
            for (var v = start; v < end; v++)
            {
                ChannelKernels.Gather(values, points, weights, csr[v], csr[v + 1], lattice + ((long)v * stride), stride);
            }
        }
    }

    /// <summary>Scalar splat of the splat weights themselves (the filter applied to ones).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void SplatOnes(float* lattice, int start, int end)
    {
        fixed (int* csr = _csrStart)
        fixed (float* weights = _csrWeight)
        {
            for (var v = start; v < end; v++)
            {
                var acc = 0f;
                for (var e = csr[v]; e < csr[v + 1]; e++)
                {
                    acc += weights[e];
                }

                lattice[v] = acc;
            }
        }
    }

    /// <summary>
    /// Slices points [start, end): output[p] = Σ_k weights[p,k]·lattice[ids[p,k]], <paramref name="stride"/>
    /// floats per point and vertex.
    /// </summary>
    public static void Slice(float* lattice, int* ids, float* weights, float* output, int stride, int start, int end)
    {
        var width = Vector<float>.Count;
        for (var p = start; p < end; p++)
        {
            var id = ids + (p * Corners);
            var w = weights + (p * Corners);
            var o = output + ((long)p * stride);
            for (var k = 0; k < stride; k += width)
            {
                var acc = Vector<float>.Zero;
                for (var c = 0; c < Corners; c++)
                {
                    acc = Vector.FusedMultiplyAdd(Vector.Load(lattice + ((long)id[c] * stride) + k), new Vector<float>(w[c]), acc);
                }

                acc.Store(o + k);
            }
        }
    }
}
