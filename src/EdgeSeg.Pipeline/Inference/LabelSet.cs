namespace EdgeSeg.Pipeline.Inference;

/// <summary>An RGB colour of a class in overlays and legends.</summary>
public readonly record struct Rgb(byte R, byte G, byte B);

/// <summary>
/// The classes a model predicts, in output-channel order, with their display colours.
/// </summary>
public sealed class LabelSet
{
    public LabelSet(string name, IReadOnlyList<string> classNames, IReadOnlyList<Rgb> palette)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentNullException.ThrowIfNull(palette);
        if (classNames.Count is 0 or > 255)
        {
            throw new ArgumentException($"a label set has 1..255 classes, not {classNames.Count}", nameof(classNames));
        }

        if (palette.Count != classNames.Count)
        {
            throw new ArgumentException($"palette has {palette.Count} colours for {classNames.Count} classes", nameof(palette));
        }

        Name = name;
        ClassNames = classNames;
        Palette = palette;
    }

    /// <summary>Short name of the set: "cityscapes", "pascal-voc", "ade20k" or a model's own.</summary>
    public string Name { get; }

    public IReadOnlyList<string> ClassNames { get; }

    public IReadOnlyList<Rgb> Palette { get; }

    public int Count => ClassNames.Count;

    /// <summary>
    /// Cityscapes' 19 training ids, in order, with the dataset's own colours. Pixels outside them carry
    /// id 255 (ignore).
    /// </summary>
    public static LabelSet Cityscapes { get; } = new(
        "cityscapes",
        [
            "road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign",
            "vegetation", "terrain", "sky", "person", "rider", "car", "truck", "bus", "train",
            "motorcycle", "bicycle",
        ],
        [
            new(128, 64, 128), new(244, 35, 232), new(70, 70, 70), new(102, 102, 156), new(190, 153, 153),
            new(153, 153, 153), new(250, 170, 30), new(220, 220, 0), new(107, 142, 35), new(152, 251, 152),
            new(70, 130, 180), new(220, 20, 60), new(255, 0, 0), new(0, 0, 142), new(0, 0, 70),
            new(0, 60, 100), new(0, 80, 100), new(0, 0, 230), new(119, 11, 32),
        ]);

    /// <summary>Pascal VOC 2012: background plus 20 object classes, with the dataset's colour map.</summary>
    public static LabelSet PascalVoc { get; } = new(
        "pascal-voc",
        [
            "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair",
            "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa",
            "train", "tvmonitor",
        ],
        VocPalette(21));

    /// <summary>Finds a built-in set by name, or null.</summary>
    public static LabelSet? FindBuiltIn(string name) => name.ToUpperInvariant() switch
    {
        "CITYSCAPES" => Cityscapes,
        "PASCAL-VOC" or "PASCALVOC" or "VOC" => PascalVoc,
        _ => null,
    };

    /// <summary>The VOC colour map: bits of the class id spread over the high bits of R, G and B.</summary>
    private static Rgb[] VocPalette(int count)
    {
        var colours = new Rgb[count];
        for (var id = 0; id < count; id++)
        {
            int r = 0, g = 0, b = 0, c = id;
            for (var bit = 7; bit >= 0 && c > 0; bit--, c >>= 3)
            {
                r |= (c & 1) << bit;
                g |= ((c >> 1) & 1) << bit;
                b |= ((c >> 2) & 1) << bit;
            }

            colours[id] = new Rgb((byte)r, (byte)g, (byte)b);
        }

        return colours;
    }
}
