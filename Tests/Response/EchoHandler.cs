using System.Net;
using System.Text;

namespace AnomalyZT.Tests.Response;

/// <summary>A provider that answers every request with <c>status</c> and a body echoing the request: its headers
/// (Authorization included) and its body. Shows that connectors keep what they sent out of their details.</summary>
public sealed class EchoHandler(HttpStatusCode status) : HttpMessageHandler
{
    /// <inheritdoc />
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var echo = new StringBuilder();
        echo.Append("you sent ").Append(request.Method).Append(' ').Append(request.RequestUri).Append(' ');
        foreach (var header in request.Headers)
        {
            echo.Append(header.Key).Append(": ").Append(string.Join(',', header.Value)).Append(' ');
        }

        if (request.Content is not null)
        {
            echo.Append(await request.Content.ReadAsStringAsync(cancellationToken));
        }

        return new HttpResponseMessage(status) { Content = new StringContent(echo.ToString(), Encoding.UTF8, "text/plain") };
    }
}
