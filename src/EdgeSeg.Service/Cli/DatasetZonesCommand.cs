using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeSeg.Pipeline.Synthetic;

namespace EdgeSeg.Service.Cli;

/// <summary>
/// <c>edgeseg dataset zones</c>: a configuration for a synthetic street with its lanes and crossing as zones,
/// class groups, the exact ground plane and a queue rule on the lane nearest the camera — a working
/// example of everything zones can do, on a street whose truth is known.
/// </summary>
internal static class DatasetZonesCommand
{
    public static Command Create()
    {
        var source = new Option<string>("--source")
        {
            Description = "The synthetic street (synthetic://street?seed=S&size=WxH&fps=F, optionally &queue=FORMS-DISSOLVES)",
            DefaultValueFactory = _ => DemoCommand.DefaultSource,
        };
        var far = new Option<double>("--far") { Description = "How far the lane zones reach, metres", DefaultValueFactory = _ => 45 };
        var command = new Command("zones", "Print a configuration with the lanes and crossing of a synthetic street as zones") { source, far };
        command.SetAction(parse =>
        {
            var uri = parse.GetValue(source)!;
            SyntheticFrameSource street;
            try
            {
                street = SyntheticFrameSource.Open(new Uri(uri));
            }
            catch (Exception e) when (e is UriFormatException or ArgumentException or FormatException)
            {
                Console.Error.WriteLine($"edgeseg dataset zones: --source: {e.Message}");
                return ExitCodes.Usage;
            }

            using (street)
            {
                Console.WriteLine(Format(Configuration(street, uri, parse.GetValue(far))));
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Indented JSON with each point ([x, y]) and each class list on one line, as a person would write it.</summary>
    internal static string Format(JsonNode config)
    {
        var text = config.ToJsonString(new JsonSerializerOptions
        {
            WriteIndented = true,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        });
        return System.Text.RegularExpressions.Regex.Replace(
            text, @"\[\s*((?:-?[0-9.eE+-]+|""[^""]*"")(?:,\s*(?:-?[0-9.eE+-]+|""[^""]*""))*)\s*\]",
            m => "[" + System.Text.RegularExpressions.Regex.Replace(m.Groups[1].Value, @",\s*", ", ") + "]");
    }

    internal static JsonObject Configuration(SyntheticFrameSource street, string uri, double far)
    {
        var zones = new JsonArray();
        var suggested = street.SuggestedZones(far);
        foreach (var zone in suggested)
        {
            var z = new JsonObject
            {
                ["Name"] = zone.Name,
                ["Points"] = new JsonArray([.. zone.Points.Select(p => (JsonNode)new JsonArray(Math.Round(p.X, 4), Math.Round(p.Y, 4)))]),
            };
            zones.Add(z);
        }

        // A queue rule on the lane of the scripted queue, or else on the lane nearest the camera.
        var target = street.Queue is { } q ? (q.Left + q.Right) / 2 : 0;
        var lane = street.LaneCentres.Select((x, i) => (Distance: Math.Abs(x - target), Name: $"lane_{i + 1}")).MinBy(l => l.Distance).Name;
        if (zones.FirstOrDefault(z => z!["Name"]!.GetValue<string>() == lane) is { } node)
        {
            node["Occupancy"] = new JsonArray(new JsonObject
            {
                ["Name"] = "queue", ["Class"] = "vehicle", ["Above"] = 0.5, ["Below"] = 0.3, ["MinSeconds"] = 3, ["EndSeconds"] = 1,
            });
        }

        return new JsonObject
        {
            ["DeviceId"] = "street-demo",
            ["Cameras"] = new JsonArray(new JsonObject
            {
                ["Name"] = "street",
                ["Source"] = uri,
                ["Zones"] = zones,
                ["Ground"] = new JsonObject { ["FromSource"] = true, ["MaxDistanceMetres"] = 60 },
            }),
            ["Statistics"] = new JsonObject
            {
                ["WindowSeconds"] = 5,
                ["ClassGroups"] = new JsonObject
                {
                    ["vehicle"] = new JsonArray("car", "truck", "bus", "motorcycle", "bicycle"),
                    ["people"] = new JsonArray("person", "rider"),
                },
            },
            ["Mqtt"] = new JsonObject { ["SpoolPath"] = "" },
        };
    }
}
