using System.Diagnostics;
using System.Globalization;
using System.Text;
using EdgeSeg.Pipeline.Frames;
using EdgeSeg.Pipeline.Synthetic;
using Microsoft.Win32.SafeHandles;

namespace EdgeSeg.Render;

/// <summary>
/// edgeseg-render --count N --size WxH --seed S --out DIR [--jobs J]
///
/// Renders the dataset `edgeseg dataset render` renders with the same arguments (sample i is the street
/// of scene seed S * 100003 + i at the moment derived from it) and writes it as DIR/images.npy
/// (N,H,W,3 uint8, RGB) and DIR/labels.npy (N,H,W uint8, Cityscapes train ids): the arrays that
/// models/training/common.py load_split caches from that command's PNG files. Each sample is rendered
/// by one thread into its own slot of the files, so the bytes do not depend on --jobs.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        int count = -1, width = 512, height = 256, jobs = Environment.ProcessorCount;
        long seed = 0;
        string? output = null;
        try
        {
            for (var i = 0; i < args.Length; i++)
            {
                var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
                switch (args[i])
                {
                    case "--count":
                        count = int.Parse(value, CultureInfo.InvariantCulture);
                        break;
                    case "--seed":
                        seed = long.Parse(value, CultureInfo.InvariantCulture);
                        break;
                    case "--jobs":
                        jobs = Math.Max(1, int.Parse(value, CultureInfo.InvariantCulture));
                        break;
                    case "--out":
                        output = value;
                        break;
                    case "--size":
                        var parts = value.Split('x');
                        if (parts.Length != 2)
                        {
                            throw new ArgumentException($"--size must be WxH, got {value}");
                        }

                        width = int.Parse(parts[0], CultureInfo.InvariantCulture);
                        height = int.Parse(parts[1], CultureInfo.InvariantCulture);
                        break;
                    default:
                        throw new ArgumentException($"unknown option {args[i]}");
                }

                i++;
            }

            if (count < 0 || output is null)
            {
                throw new ArgumentException("--count and --out are required");
            }
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
        {
            Console.Error.WriteLine($"edgeseg-render: {e.Message}");
            Console.Error.WriteLine("usage: edgeseg-render --count N --size WxH --seed S --out DIR [--jobs J]");
            return 2;
        }

        Directory.CreateDirectory(output);
        var clock = Stopwatch.StartNew();
        Write(output, count, width, height, seed, jobs);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"edgeseg-render: {count} samples of {width}x{height}, seed {seed}, {jobs} threads, {clock.Elapsed.TotalSeconds:0.0} s -> {output}/images.npy, labels.npy"));
        return 0;
    }

    /// <summary>The .npy (format 1.0) header of a C-ordered uint8 array, padded to a multiple of 64 bytes.</summary>
    private static byte[] NpyHeader(params int[] shape)
    {
        var dims = string.Join(", ", shape.Select(s => s.ToString(CultureInfo.InvariantCulture)));
        var dict = $"{{'descr': '|u1', 'fortran_order': False, 'shape': ({dims}{(shape.Length == 1 ? "," : "")}), }}";
        var total = 10 + dict.Length + 1;
        var padded = (total + 63) / 64 * 64;
        dict = dict.PadRight(padded - 10 - 1) + "\n";
        var header = new byte[padded];
        header[0] = 0x93;
        Encoding.ASCII.GetBytes("NUMPY").CopyTo(header, 1);
        header[6] = 1;
        header[7] = 0;
        header[8] = (byte)(dict.Length & 0xFF);
        header[9] = (byte)(dict.Length >> 8);
        Encoding.ASCII.GetBytes(dict).CopyTo(header, 10);
        return header;
    }

    private static void Write(string directory, int count, int width, int height, long seed, int jobs)
    {
        var imageHeader = NpyHeader(count, height, width, 3);
        var labelHeader = NpyHeader(count, height, width);
        long imageBytes = (long)width * height * 3, labelBytes = (long)width * height;
        var imagePath = Path.Combine(directory, "images.npy");
        var labelPath = Path.Combine(directory, "labels.npy");
        using (var images = File.OpenHandle(imagePath + ".tmp", FileMode.Create, FileAccess.Write))
        using (var labels = File.OpenHandle(labelPath + ".tmp", FileMode.Create, FileAccess.Write))
        {
            RandomAccess.SetLength(images, imageHeader.Length + (count * imageBytes));
            RandomAccess.SetLength(labels, labelHeader.Length + (count * labelBytes));
            RandomAccess.Write(images, imageHeader, 0);
            RandomAccess.Write(labels, labelHeader, 0);
            var done = 0;
            var step = Math.Max(1, count / 10);
            var clock = Stopwatch.StartNew();
            Parallel.For(
                0,
                count,
                new ParallelOptions { MaxDegreeOfParallelism = jobs },
                () => (Frame: new VideoFrame(), Labels: new LabelMap(), Rgb: new byte[imageBytes]),
                (index, _, buffers) =>
                {
                    Render(seed, index, width, height, buffers.Frame, buffers.Labels);
                    var bgr = buffers.Frame.Buffer;
                    var rgb = buffers.Rgb;
                    for (var p = 0; p < rgb.Length; p += 3)
                    {
                        rgb[p] = bgr[p + 2];
                        rgb[p + 1] = bgr[p + 1];
                        rgb[p + 2] = bgr[p];
                    }

                    Save(images, rgb, imageHeader.Length + (index * imageBytes));
                    Save(labels, buffers.Labels.Buffer.AsSpan(0, (int)labelBytes).ToArray(), labelHeader.Length + (index * labelBytes));
                    var written = Interlocked.Increment(ref done);
                    if (written % step == 0)
                    {
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"edgeseg-render: {written}/{count} samples, {clock.Elapsed.TotalSeconds:0.0} s"));
                    }

                    return buffers;
                },
                _ => { });
        }

        File.Move(imagePath + ".tmp", imagePath, overwrite: true);
        File.Move(labelPath + ".tmp", labelPath, overwrite: true);
    }

    /// <summary>
    /// Sample <paramref name="index"/> of the dataset of <paramref name="seed"/>, as DatasetWriter.Render
    /// draws it (that class also writes PNGs through OpenCV, so it is not compiled here): the street of
    /// scene seed seed * SeedStride + index at a moment in [0, 120) s derived from that scene seed.
    /// </summary>
    private static void Render(long seed, int index, int width, int height, VideoFrame frame, LabelMap labels)
    {
        const long SeedStride = 100_003;
        var sceneSeed = checked((seed * SeedStride) + index);
        var seconds = (SceneRandom.Mix((ulong)sceneSeed ^ 0x7135UL) >> 11) * (1.0 / (1UL << 53)) * 120.0;
        new StreetSceneRenderer(sceneSeed, width, height).RenderAt(seconds, index, frame, labels);
    }

    private static void Save(SafeFileHandle file, byte[] data, long offset) => RandomAccess.Write(file, data, offset);
}
