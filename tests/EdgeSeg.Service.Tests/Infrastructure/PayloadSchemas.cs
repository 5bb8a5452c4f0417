using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace EdgeSeg.Service.Tests.Infrastructure;

/// <summary>The JSON Schemas of docs/schemas, applied to payloads the suite receives.</summary>
internal static class PayloadSchemas
{
    private static readonly Dictionary<string, JsonSchema> Schemas = new();

    private static JsonSchema Load(string name)
    {
        lock (Schemas)
        {
            if (!Schemas.TryGetValue(name, out var schema))
            {
                schema = JsonSchema.FromText(File.ReadAllText(Path.Combine(RepositoryRoot.Path, "docs", "schemas", name + ".schema.json")));
                Schemas[name] = schema;
            }

            return schema;
        }
    }

    /// <summary>Fails the test with every violation when <paramref name="payload"/> does not match the named schema.</summary>
    public static void AssertValid(string name, string payload)
    {
        var errors = Violations(name, payload);
        if (errors.Count > 0)
        {
            Assert.Fail($"{name} payload does not match docs/schemas/{name}.schema.json: {string.Join("; ", errors)}\n{payload}");
        }
    }

    /// <summary>Every violation of the named schema by <paramref name="payload"/> (none: it is valid).</summary>
    public static IReadOnlyList<string> Violations(string name, string payload)
    {
        var node = name == "status" ? JsonValue.Create(payload) : JsonNode.Parse(payload);
        using var document = JsonDocument.Parse(node is null ? "null" : node.ToJsonString());
        var result = Load(name).Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        return result.IsValid
            ? []
            : [.. (result.Details ?? []).Where(d => d.Errors is { Count: > 0 }).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")).DefaultIfEmpty("invalid")];
    }
}
