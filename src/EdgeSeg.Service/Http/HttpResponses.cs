using System.Buffers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace EdgeSeg.Service.Http;

/// <summary>How the endpoint answers: JSON and plain-text bodies, never cached.</summary>
internal static class HttpResponses
{
    public static Task WriteJsonAsync(HttpResponse response, int status, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer))
        {
            write(w);
        }

        return WriteAsync(response, status, "application/json; charset=utf-8", buffer.WrittenMemory);
    }

    /// <summary>A message for a person (an error's reason), one line.</summary>
    public static Task WriteTextAsync(HttpResponse response, int status, string message) =>
        WriteAsync(response, status, "text/plain; charset=utf-8", Encoding.UTF8.GetBytes(message + "\n"));

    public static async Task WriteAsync(HttpResponse response, int status, string contentType, ReadOnlyMemory<byte> body)
    {
        response.StatusCode = status;
        response.ContentType = contentType;
        response.ContentLength = body.Length;
        response.Headers.CacheControl = "no-store";
        response.Headers.XContentTypeOptions = "nosniff";
        await response.Body.WriteAsync(body, response.HttpContext.RequestAborted).ConfigureAwait(false);
    }
}
