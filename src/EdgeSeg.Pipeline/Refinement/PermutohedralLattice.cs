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
    private const int FieldBits = 12;
    private const int FieldBias = 1 << (FieldBits - 1);
    private const ulong HashMultiplier = 0x9E3779B97F4A7C15UL;

    /// <summary>Largest absolute elevated coordinate the packed keys can hold (with margin for the simplex offsets).</summary>
    public const float MaxElevated = FieldBias - 16;

    private readonly long[] _axisDelta = new long[Corners];

    // Per pixel of the frame (row-major), Corners entries each.
    private int[] _pixelVertex = [];
    private float[] _pixelWeight = [];
    private long[] _pixelKey = [];
    private int[] _pixelRank = [];

    private long[] _tableKeys = [];
    private int[] _tableIds = [];
    private int _tableShift;
    private int _tableMask;

    private long[] _vertexKeys = [];
    private int[] _neighbours = [];

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
    /// </summary>
    public void LocateRows(ReadOnlySpan<byte> bgr, ReadOnlySpan<float> scales, int rowStart, int rowEnd)
    {
        float a0 = scales[0], a1 = scales[1], a2 = scales[2], a3 = scales[3], a4 = scales[4];
        var width = Width;
        const float inv = 1f / Corners;
        var elevated = stackalloc float[Corners];
        var rem0 = stackalloc int[Corners];
        var rank = stackalloc int[Corners];
        var bary = stackalloc float[Corners + 1];
        fixed (byte* image = bgr)
        fixed (long* keys = _pixelKey)
        fixed (int* ranks = _pixelRank)
        fixed (float* weights = _pixelWeight)
        {
            for (var y = rowStart; y < rowEnd; y++)
            {
                var cf1 = y * a1;
                for (var x = 0; x < width; x++)
                {
                    var p = (y * width) + x;
                    var px = image + (p * 3);

                    // Feature order (x, y, R, G, B) as in the reference; the frame is BGR.
                    var cf0 = x * a0;
                    var cf2 = px[2] * a2;
                    var cf3 = px[1] * a3;
                    var cf4 = px[0] * a4;

                    // Elevate onto the hyperplane Σ = 0 in 6-D.
                    elevated[5] = -5f * cf4;
                    var sm = cf4;
                    elevated[4] = sm - (4f * cf3);
                    sm += cf3;
                    elevated[3] = sm - (3f * cf2);
                    sm += cf2;
                    elevated[2] = sm - (2f * cf1);
                    sm += cf1;
                    elevated[1] = sm - cf0;
                    elevated[0] = sm + cf0;

                    // Nearest remainder-0 point (all coordinates multiples of 6), then fix its sum.
                    var sum = 0;
                    for (var i = 0; i < Corners; i++)
                    {
                        var r = (int)MathF.Round(elevated[i] * inv) * Corners;
                        rem0[i] = r;
                        sum += r;
                        rank[i] = 0;
                    }

                    sum /= Corners;

                    // Rank of each coordinate's residual: 0 for the largest.
                    for (var i = 0; i < Dims; i++)
                    {
                        var di = elevated[i] - rem0[i];
                        for (var j = i + 1; j < Corners; j++)
                        {
                            if (di < elevated[j] - rem0[j])
                            {
                                rank[i]++;
                            }
                            else
                            {
                                rank[j]++;
                            }
                        }
                    }

                    if (sum > 0)
                    {
                        // Too high: move the `sum` coordinates with the smallest residuals down by 6.
                        for (var i = 0; i < Corners; i++)
                        {
                            if (rank[i] >= Corners - sum)
                            {
                                rem0[i] -= Corners;
                                rank[i] += sum - Corners;
                            }
                            else
                            {
                                rank[i] += sum;
                            }
                        }
                    }
                    else if (sum < 0)
                    {
                        for (var i = 0; i < Corners; i++)
                        {
                            if (rank[i] < -sum)
                            {
                                rem0[i] += Corners;
                                rank[i] += Corners + sum;
                            }
                            else
                            {
                                rank[i] += sum;
                            }
                        }
                    }

                    for (var i = 0; i <= Corners; i++)
                    {
                        bary[i] = 0f;
                    }

                    for (var i = 0; i < Corners; i++)
                    {
                        var v = (elevated[i] - rem0[i]) * inv;
                        bary[Dims - rank[i]] += v;
                        bary[Corners - rank[i]] -= v;
                    }

                    bary[0] += 1f + bary[Corners];

                    long key = 0;
                    var code = 0;
                    for (var i = 0; i < Dims; i++)
                    {
                        key |= (long)(rem0[i] + FieldBias) << (FieldBits * i);
                        code |= rank[i] << (3 * i);
                    }

                    keys[p] = key;
                    ranks[p] = code;
                    var w = weights + (p * Corners);
                    for (var k = 0; k < Corners; k++)
                    {
                        w[k] = bary[k];
                    }
                }
            }
        }
    }

    /// <summary>
    /// Step 2 (serial): creates the vertices of the simplices around the grid pixels
    /// (x, y multiples of <paramref name="step"/>) and records their ids.
    /// </summary>
    public void InsertGrid(int step)
    {
        var gridWidth = ((Width - 1) / step) + 1;
        var gridHeight = ((Height - 1) / step) + 1;
        var maxVertices = (gridWidth * gridHeight * Corners) + 1;
        PrepareTable(Math.Min(maxVertices, Math.Max(VertexCount * 2, 4096)));
        VertexCount = 0;
        long lastKey = -1;
        var lastCode = -1;
        var width = Width;
        fixed (long* keys = _pixelKey)
        fixed (int* ranks = _pixelRank)
        fixed (int* ids = _pixelVertex)
        {
            for (var gy = 0; gy < gridHeight; gy++)
            {
                for (var gx = 0; gx < gridWidth; gx++)
                {
                    var p = (gy * step * width) + (gx * step);
                    var id = ids + (p * Corners);
                    var key = keys[p];
                    var code = ranks[p];
                    if (key == lastKey && code == lastCode)
                    {
                        // Neighbouring pixels often share a simplex: reuse the previous ids.
                        var prev = id - (step * Corners);
                        for (var k = 0; k < Corners; k++)
                        {
                            id[k] = prev[k];
                        }

                        continue;
                    }

                    lastKey = key;
                    lastCode = code;
                    for (var k = 0; k < Corners; k++)
                    {
                        id[k] = FindOrInsert(key + CornerOffset(code, k));
                    }
                }

                lastKey = -1;
            }
        }
    }

    /// <summary>
    /// Step 3 (parallel by rows): looks up the simplex vertices of the pixels off the grid; vertices
    /// no grid pixel created point at the zero row <see cref="VertexCount"/>.
    /// </summary>
    public void FindOffGridRows(int step, int rowStart, int rowEnd)
    {
        var width = Width;
        var missing = VertexCount;
        fixed (long* keys = _pixelKey)
        fixed (int* ranks = _pixelRank)
        fixed (int* ids = _pixelVertex)
        {
            for (var y = rowStart; y < rowEnd; y++)
            {
                var onGridRow = y % step == 0;
                long lastKey = -1;
                var lastCode = -1;
                int* lastIds = null;
                for (var x = 0; x < width; x++)
                {
                    var p = (y * width) + x;
                    var id = ids + (p * Corners);
                    var key = keys[p];
                    var code = ranks[p];
                    if (onGridRow && x % step == 0)
                    {
                        lastKey = key;
                        lastCode = code;
                        lastIds = id;
                        continue;
                    }

                    if (key == lastKey && code == lastCode)
                    {
                        for (var k = 0; k < Corners; k++)
                        {
                            id[k] = lastIds[k];
                        }

                        continue;
                    }

                    lastKey = key;
                    lastCode = code;
                    lastIds = id;
                    for (var k = 0; k < Corners; k++)
                    {
                        var found = Find(key + CornerOffset(code, k));
                        id[k] = found < 0 ? missing : found;
                    }
                }
            }
        }
    }

    /// <summary>Step 4 (parallel by vertex ranges): the blur neighbours of vertices [start, end).</summary>
    public void FindNeighbours(int start, int end)
    {
        var missing = VertexCount;
        for (var v = start; v < end; v++)
        {
            var key = _vertexKeys[v];
            var o = v * Corners * 2;
            for (var j = 0; j < Corners; j++)
            {
                var minus = Find(key - _axisDelta[j]);
                var plus = Find(key + _axisDelta[j]);
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
                    var sumNeighbours = Unsafe.ReadUnaligned<Vector<float>>(minus + k) + Unsafe.ReadUnaligned<Vector<float>>(plus + k);
                    var result = Vector.FusedMultiplyAdd(sumNeighbours, half, Unsafe.ReadUnaligned<Vector<float>>(self + k));
                    Unsafe.WriteUnaligned(output + k, result);
                }
            }
        }
    }

    /// <summary>Scalar blur pass (one value per vertex), used for the normalisation.</summary>
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
        // The table only grows, so that a warm refiner allocates nothing per frame.
        var capacity = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(expectedVertices * 2, 1024));
        capacity = Math.Max(capacity, _tableKeys.Length);
        if (_tableKeys.Length != capacity)
        {
            _tableKeys = new long[capacity];
            _tableIds = new int[capacity];
        }
        else
        {
            Array.Clear(_tableKeys);
        }

        _tableMask = capacity - 1;
        _tableShift = 64 - BitOperations.Log2((uint)capacity);
        if (_vertexKeys.Length < expectedVertices)
        {
            _vertexKeys = new long[expectedVertices];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Find(long key)
    {
        var slot = (int)(((ulong)key * HashMultiplier) >> _tableShift);
        while (true)
        {
            var k = _tableKeys[slot];
            if (k == key)
            {
                return _tableIds[slot];
            }

            if (k == 0)
            {
                return -1;
            }

            slot = (slot + 1) & _tableMask;
        }
    }

    private int FindOrInsert(long key)
    {
        var slot = (int)(((ulong)key * HashMultiplier) >> _tableShift);
        while (true)
        {
            var k = _tableKeys[slot];
            if (k == key)
            {
                return _tableIds[slot];
            }

            if (k == 0)
            {
                break;
            }

            slot = (slot + 1) & _tableMask;
        }

        var id = VertexCount;
        if ((id + 1) * 2 > _tableKeys.Length)
        {
            Grow();
            return FindOrInsert(key);
        }

        if (id >= _vertexKeys.Length)
        {
            Array.Resize(ref _vertexKeys, _vertexKeys.Length * 2);
        }

        _tableKeys[slot] = key;
        _tableIds[slot] = id;
        _vertexKeys[id] = key;
        VertexCount = id + 1;
        return id;
    }

    private void Grow()
    {
        var count = VertexCount;
        var capacity = _tableKeys.Length * 2;
        _tableKeys = new long[capacity];
        _tableIds = new int[capacity];
        _tableMask = capacity - 1;
        _tableShift = 64 - BitOperations.Log2((uint)capacity);
        for (var id = 0; id < count; id++)
        {
            var key = _vertexKeys[id];
            var slot = (int)(((ulong)key * HashMultiplier) >> _tableShift);
            while (_tableKeys[slot] != 0)
            {
                slot = (slot + 1) & _tableMask;
            }

            _tableKeys[slot] = key;
            _tableIds[slot] = id;
        }
    }

    /// <summary>Sizes the neighbour table once the vertex count is known (after <see cref="InsertGrid"/>).</summary>
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
    public void ScaleSplatWeights(ReadOnlySpan<float> pointFactor)
    {
        var total = _csrStart[VertexCount];
        for (var e = 0; e < total; e++)
        {
            _csrWeight[e] *= pointFactor[_csrPoint[e]];
        }
    }

    /// <summary>Gathers lattice values of vertices [start, end) from the grid points: lattice[v] = Σ w·values[point].</summary>
    public void Splat(float* values, float* lattice, int stride, int start, int end)
    {
        var width = Vector<float>.Count;
        fixed (int* csr = _csrStart)
        fixed (int* points = _csrPoint)
        fixed (float* weights = _csrWeight)
        {
            for (var v = start; v < end; v++)
            {
                var e0 = csr[v];
                var e1 = csr[v + 1];
                var output = lattice + ((long)v * stride);
                for (var k = 0; k < stride; k += width)
                {
                    var acc = Vector<float>.Zero;
                    for (var e = e0; e < e1; e++)
                    {
                        var source = values + ((long)points[e] * stride) + k;
                        acc = Vector.FusedMultiplyAdd(Unsafe.ReadUnaligned<Vector<float>>(source), new Vector<float>(weights[e]), acc);
                    }

                    Unsafe.WriteUnaligned(output + k, acc);
                }
            }
        }
    }

    /// <summary>Scalar splat of the splat weights themselves (the filter applied to ones).</summary>
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
                    acc = Vector.FusedMultiplyAdd(Unsafe.ReadUnaligned<Vector<float>>(lattice + ((long)id[c] * stride) + k), new Vector<float>(w[c]), acc);
                }

                Unsafe.WriteUnaligned(o + k, acc);
            }
        }
    }
}
