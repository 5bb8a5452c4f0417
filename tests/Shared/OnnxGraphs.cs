using Google.Protobuf;
using Onnx;

namespace EdgeSeg.Tests.Shared;

/// <summary>Small ONNX graphs built by hand for the quantizer's and the inspector's tests.</summary>
internal sealed class OnnxGraphs
{
    private readonly GraphProto _graph = new() { Name = "test" };
    private readonly Random _random = new(7);

    public OnnxGraphs(string input = "input", int channels = 3, int height = 8, int width = 16, int elementType = (int)TensorProto.Types.DataType.Float)
    {
        var shape = new TensorShapeProto();
        foreach (var d in new long[] { 1, channels, height, width })
        {
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        }

        _graph.Input.Add(new ValueInfoProto { Name = input, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = elementType, Shape = shape } } });
    }

    public GraphProto Graph => _graph;

    /// <summary>A float initializer of the given shape with the given values (random in [−1, 1] when null).</summary>
    public string Tensor(string name, long[] dims, float[]? values = null)
    {
        var count = (int)dims.Aggregate(1L, (a, b) => a * b);
        values ??= Enumerable.Range(0, count).Select(_ => (float)((_random.NextDouble() * 2) - 1)).ToArray();
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.AddRange(dims);
        t.FloatData.AddRange(values);
        _graph.Initializer.Add(t);
        return name;
    }

    public string Conv(string name, string input, int inChannels, int outChannels, int kernel = 3, int dilation = 1, int group = 1, bool bias = true, float[]? weights = null, int stride = 1)
    {
        var w = Tensor(name + ".w", [outChannels, inChannels / group, kernel, kernel], weights);
        var node = new NodeProto { Name = name, OpType = "Conv" };
        node.Input.Add(input);
        node.Input.Add(w);
        if (bias)
        {
            node.Input.Add(Tensor(name + ".b", [outChannels]));
        }

        node.Output.Add(name + ".out");
        var pad = dilation * (kernel - 1) / 2;
        node.Attribute.Add(Ints("pads", pad, pad, pad, pad));
        node.Attribute.Add(Ints("dilations", dilation, dilation));
        node.Attribute.Add(new AttributeProto { Name = "group", Type = AttributeProto.Types.AttributeType.Int, I = group });
        if (stride != 1)
        {
            node.Attribute.Add(Ints("strides", stride, stride));
        }

        _graph.Node.Add(node);
        return node.Output[0];
    }

    /// <summary>A bilinear (half-pixel) Resize of <paramref name="input"/> to the NCHW <paramref name="sizes"/>.</summary>
    public string Resize(string name, string input, params long[] sizes)
    {
        var t = new TensorProto { Name = name + ".sizes", DataType = (int)TensorProto.Types.DataType.Int64 };
        t.Dims.Add(sizes.Length);
        t.Int64Data.AddRange(sizes);
        _graph.Initializer.Add(t);
        var node = new NodeProto { Name = name, OpType = "Resize" };
        node.Input.AddRange([input, string.Empty, string.Empty, t.Name]);
        node.Output.Add(name + ".out");
        node.Attribute.Add(new AttributeProto { Name = "mode", Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8("linear") });
        node.Attribute.Add(new AttributeProto { Name = "coordinate_transformation_mode", Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8("half_pixel") });
        _graph.Node.Add(node);
        return node.Output[0];
    }

    public string Op(string opType, string name, params string[] inputs)
    {
        var node = new NodeProto { Name = name, OpType = opType };
        node.Input.AddRange(inputs);
        node.Output.Add(name + ".out");
        if (opType == "Concat")
        {
            node.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        }

        _graph.Node.Add(node);
        return node.Output[0];
    }

    public ModelProto Model(string output, int opset = 13)
    {
        _graph.Output.Add(new ValueInfoProto { Name = output, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } } });
        var model = new ModelProto { IrVersion = 8, Graph = _graph, ProducerName = "edgeseg-tests" };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = opset });
        return model;
    }

    public static void Save(ModelProto model, string path) => File.WriteAllBytes(path, model.ToByteArray());

    private static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }
}
