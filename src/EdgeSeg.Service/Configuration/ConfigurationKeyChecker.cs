using System.Collections;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace EdgeSeg.Service.Configuration;

/// <summary>
/// Walks a configuration tree against the options types before binding: a key no property takes is an
/// error (a typo must never be ignored), and a value that does not convert to its property's type is
/// reported with its path instead of surfacing as a binder exception.
/// </summary>
internal static class ConfigurationKeyChecker
{
    /// <summary>Top-level sections that belong to the .NET host rather than to EdgeSeg.</summary>
    private static readonly string[] HostSections = ["Logging"];

    public static void Check(IConfiguration root, Type optionsType, List<string> errors)
    {
        foreach (var child in root.GetChildren())
        {
            if (HostSections.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                continue;
            }

            CheckMember(child, optionsType, child.Key, errors);
        }
    }

    private static void CheckMember(IConfigurationSection section, Type owner, string path, List<string> errors)
    {
        var property = owner.GetProperty(section.Key, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
        if (property is null || !property.CanWrite)
        {
            var known = owner.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).Select(p => p.Name);
            errors.Add($"{path}: unknown key (known keys here: {string.Join(", ", known)})");
            return;
        }

        CheckValue(section, property.PropertyType, path, errors);
    }

    private static void CheckValue(IConfigurationSection section, Type type, string path, List<string> errors)
    {
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>) && type.GetGenericArguments()[0] == typeof(string))
        {
            // A map: any key is the user's own name; its values are checked against the value type.
            if (section.Value is { Length: > 0 })
            {
                errors.Add($"{path}: expected an object of named entries, got the value '{section.Value}'");
                return;
            }

            foreach (var entry in section.GetChildren())
            {
                CheckValue(entry, type.GetGenericArguments()[1], $"{path}.{entry.Key}", errors);
            }

            return;
        }

        var elementType = ElementType(type);
        if (elementType is not null)
        {
            if (section.Value is { Length: > 0 })
            {
                errors.Add($"{path}: expected a list, got the value '{section.Value}'");
                return;
            }

            foreach (var item in section.GetChildren())
            {
                if (!int.TryParse(item.Key, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                {
                    errors.Add($"{path}: expected a list, found key '{item.Key}'");
                    continue;
                }

                CheckValue(item, elementType, $"{path}[{index}]", errors);
            }

            return;
        }

        if (IsScalar(type))
        {
            if (section.GetChildren().Any())
            {
                errors.Add($"{path}: expected a single value, found an object or list");
                return;
            }

            if (section.Value is { } value && ConversionError(value, type) is { } problem)
            {
                errors.Add($"{path}: {problem}");
            }

            return;
        }

        if (section.Value is { Length: > 0 })
        {
            errors.Add($"{path}: expected an object, got the value '{section.Value}'");
            return;
        }

        foreach (var child in section.GetChildren())
        {
            CheckMember(child, type, $"{path}.{child.Key}", errors);
        }
    }

    private static Type? ElementType(Type type)
    {
        if (type == typeof(string))
        {
            return null;
        }

        if (type.IsArray)
        {
            return type.GetElementType();
        }

        return type.IsGenericType && typeof(IEnumerable).IsAssignableFrom(type) ? type.GetGenericArguments()[0] : null;
    }

    private static bool IsScalar(Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        return t.IsPrimitive || t.IsEnum || t == typeof(string) || t == typeof(decimal) || t == typeof(TimeSpan);
    }

    private static string? ConversionError(string value, Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        if (t == typeof(string))
        {
            return null;
        }

        if (value.Length == 0 && t != type)
        {
            return null;
        }

        if (t.IsEnum)
        {
            return Enum.GetNames(t).Contains(value, StringComparer.OrdinalIgnoreCase)
                ? null
                : $"'{value}' is not one of {string.Join(", ", Enum.GetNames(t))}";
        }

        var ok = t switch
        {
            _ when t == typeof(int) => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _),
            _ when t == typeof(long) => long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _),
            _ when t == typeof(double) => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d),
            _ when t == typeof(float) => float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var f) && float.IsFinite(f),
            _ when t == typeof(bool) => bool.TryParse(value, out _),
            _ when t == typeof(TimeSpan) => TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out _),
            _ => true,
        };
        if (ok)
        {
            return null;
        }

        var what = t == typeof(bool) ? "true or false" : t == typeof(int) || t == typeof(long) ? "a whole number" : "a number";
        return $"'{value}' is not {what}";
    }
}
