namespace EdgeSeg.Pipeline.Synthetic;

/// <summary>Cityscapes train ids, as the renderer writes them into label maps.</summary>
public static class TrainId
{
    public const byte Road = 0;
    public const byte Sidewalk = 1;
    public const byte Building = 2;
    public const byte Wall = 3;
    public const byte Fence = 4;
    public const byte Pole = 5;
    public const byte TrafficLight = 6;
    public const byte TrafficSign = 7;
    public const byte Vegetation = 8;
    public const byte Terrain = 9;
    public const byte Sky = 10;
    public const byte Person = 11;
    public const byte Rider = 12;
    public const byte Car = 13;
    public const byte Truck = 14;
    public const byte Bus = 15;
    public const byte Train = 16;
    public const byte Motorcycle = 17;
    public const byte Bicycle = 18;

    /// <summary>
    /// The classes the street renderer draws. Train (tram) is the one Cityscapes class it never
    /// draws, so a model trained on its scenes has no evidence for it.
    /// </summary>
    public static IReadOnlyList<byte> Drawn { get; } =
    [
        Road, Sidewalk, Building, Wall, Fence, Pole, TrafficLight, TrafficSign, Vegetation, Terrain, Sky,
        Person, Rider, Car, Truck, Bus, Motorcycle, Bicycle,
    ];
}
