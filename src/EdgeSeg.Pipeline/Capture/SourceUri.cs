using System.Globalization;
using System.Text.RegularExpressions;

namespace EdgeSeg.Pipeline.Capture;

/// <summary>
/// A camera source written as a URI: <c>file:///videos/north.mp4?loop=true</c>, <c>v4l2:///dev/video0</c>,
/// <c>synthetic://street?seed=7</c>. Parsed by hand rather than with <see cref="Uri"/>, which would read the
/// first folder of a relative file path as a host name.
/// </summary>
public sealed partial class SourceUri
{
    private SourceUri(string original, string scheme, string authority, string path, IReadOnlyDictionary<string, string> query)
    {
        Original = original;
        Scheme = scheme;
        Authority = authority;
        Path = path;
        Query = query;
    }

    /// <summary>The text as configured.</summary>
    public string Original { get; }

    /// <summary>Lower-case scheme without "://".</summary>
    public string Scheme { get; }

    /// <summary>Host part for network and generator schemes (may hold user:password@).</summary>
    public string Authority { get; }

    /// <summary>Path, percent-decoded.</summary>
    public string Path { get; }

    /// <summary>Query parameters, keys compared without case.</summary>
    public IReadOnlyDictionary<string, string> Query { get; }

    /// <summary>The URI with any password replaced, safe for logs.</summary>
    public string Redacted
    {
        get
        {
            var at = Authority.LastIndexOf('@');
            if (at < 0)
            {
                return Original;
            }

            var colon = Authority.IndexOf(':', StringComparison.Ordinal);
            var user = colon >= 0 && colon < at ? Authority[..colon] + ":***" : Authority[..at];
            var rest = Original[(Original.IndexOf("://", StringComparison.Ordinal) + 3 + Authority.Length)..];
            return $"{Scheme}://{user}{Authority[at..]}{rest}";
        }
    }

    /// <summary>
    /// Replaces every occurrence of this URI's password (as written and percent-decoded) in
    /// <paramref name="text"/>, such as a line an external tool printed about the URI, so it is safe to log.
    /// </summary>
    public string Scrub(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var at = Authority.LastIndexOf('@');
        var colon = Authority.IndexOf(':', StringComparison.Ordinal);
        if (at < 0 || colon < 0 || colon >= at - 1)
        {
            return text;
        }

        // The whole URI first, so that the usual case reads naturally ("user:***@host"); then any other
        // spelling of the password, since tools may print it decoded or inside a longer string.
        var password = Authority[(colon + 1)..at];
        var result = text.Replace(Original, Redacted, StringComparison.Ordinal)
            .Replace(password, "***", StringComparison.Ordinal);
        var decoded = Uri.UnescapeDataString(password);
        return decoded.Length > 0 ? result.Replace(decoded, "***", StringComparison.Ordinal) : result;
    }

    /// <summary>Parses <paramref name="text"/>; throws <see cref="FormatException"/> naming what is wrong.</summary>
    public static SourceUri Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new FormatException("source is empty; expected a URI such as file:///videos/cam.mp4 or synthetic://street");
        }

        var sep = text.IndexOf("://", StringComparison.Ordinal);
        if (sep <= 0)
        {
            throw new FormatException($"'{RedactLoosely(text)}' is not a URI: expected scheme://…, e.g. file:///videos/cam.mp4");
        }

        var scheme = text[..sep].ToLowerInvariant();
        if (!scheme.All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.'))
        {
            throw new FormatException($"'{RedactLoosely(text)}' has an invalid scheme '{text[..sep]}'");
        }

        var rest = text[(sep + 3)..];
        var queryText = string.Empty;
        var q = rest.IndexOf('?', StringComparison.Ordinal);
        if (q >= 0)
        {
            queryText = rest[(q + 1)..];
            rest = rest[..q];
        }

        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var authority = slash < 0 ? rest : rest[..slash];
        var path = slash < 0 ? string.Empty : Uri.UnescapeDataString(rest[slash..]);
        return new SourceUri(text, scheme, authority, path, ParseQuery(text, queryText));
    }

    /// <summary>Reads a boolean query parameter.</summary>
    public bool GetBool(string key, bool fallback)
    {
        if (!Query.TryGetValue(key, out var value))
        {
            return fallback;
        }

        return value.ToUpperInvariant() switch
        {
            "TRUE" or "1" or "YES" or "ON" => true,
            "FALSE" or "0" or "NO" or "OFF" => false,
            _ => throw new FormatException($"'{key}={value}' in '{Redacted}': expected true or false"),
        };
    }

    /// <summary>Reads a positive integer query parameter.</summary>
    public int GetPositiveInt(string key, int fallback)
    {
        if (!Query.TryGetValue(key, out var value))
        {
            return fallback;
        }

        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n <= 0)
        {
            throw new FormatException($"'{key}={value}' in '{Redacted}': expected a positive integer");
        }

        return n;
    }

    /// <summary>Throws when the query holds a key outside <paramref name="allowed"/>: a typo must not pass silently.</summary>
    public void RejectUnknownKeys(params string[] allowed)
    {
        foreach (var key in Query.Keys)
        {
            if (!allowed.Contains(key, StringComparer.OrdinalIgnoreCase))
            {
                var list = allowed.Length == 0 ? "none" : string.Join(", ", allowed);
                throw new FormatException($"unknown parameter '{key}' in '{Redacted}' (allowed for {Scheme}: {list})");
            }
        }
    }

    /// <summary>
    /// Masks what looks like a password ("user:secret@") in text that did not parse as a URI, so that even
    /// the message about a malformed camera address cannot leak its credentials.
    /// </summary>
    private static string RedactLoosely(string text) => LoosePassword().Replace(text, "***");

    [GeneratedRegex(@"(?<=:)[^:/@]+(?=@)")]
    private static partial Regex LoosePassword();

    private static Dictionary<string, string> ParseQuery(string text, string query)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var part in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            var key = Uri.UnescapeDataString(eq < 0 ? part : part[..eq]);
            var value = eq < 0 ? string.Empty : Uri.UnescapeDataString(part[(eq + 1)..]);
            if (!result.TryAdd(key, value))
            {
                throw new FormatException($"parameter '{key}' appears twice in '{RedactLoosely(text)}'");
            }
        }

        return result;
    }
}
