using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Flannel.Subnet.Etcd.V2;

/// <summary>
/// Reads etcd's v2 keyspace over its HTTP API (<c>GET /v2/keys/...</c>; etcd 3.4 serves it with <c>--enable-v2</c>),
/// where flanneld up to v0.17 kept the config and leases. Same endpoints, TLS files and username/password (HTTP basic
/// auth, as the v2 API takes them) as the daemon. Read only.
/// </summary>
public sealed class EtcdV2Client : IDisposable
{
    private readonly EtcdOptions _options;
    private readonly HttpClient _http;

    public EtcdV2Client(EtcdOptions options, TimeSpan? timeout = null)
    {
        _options = options;
        var handler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(3) };
        if (options.UseTls)
        {
            EtcdConnection.ConfigureTls(options, handler.SslOptions);
        }
        _http = new HttpClient(handler) { Timeout = timeout ?? TimeSpan.FromSeconds(10) };
        if (!string.IsNullOrEmpty(options.Username))
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes($"{options.Username}:{options.Password}")));
        }
    }

    /// <summary>
    /// The node at <paramref name="key"/> with everything below it, or null when the key does not exist. Endpoints are
    /// tried in order until one answers.
    /// </summary>
    /// <exception cref="EtcdV2Exception">No endpoint answered, the v2 API is not served, or it refused us.</exception>
    public async Task<V2Node?> GetAsync(string key, CancellationToken ct)
    {
        var failures = new List<string>();
        foreach (var endpoint in _options.Endpoints)
        {
            string url = endpoint.TrimEnd('/') + "/v2/keys" + EscapePath(key) + "?recursive=true&sorted=true";
            if (_options.UseTls && url.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
            {
                url = "https://" + url["http://".Length..];
            }
            HttpResponseMessage response;
            try
            {
                response = await _http.GetAsync(url, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                failures.Add($"{endpoint}: {Describe(e)}");
                continue;
            }
            using (response)
            {
                string body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
                return Interpret(endpoint, response.StatusCode, body);
            }
        }
        throw new EtcdV2Exception("cannot reach etcd's v2 API: " + string.Join("; ", failures));
    }

    /// <summary>What an answer of /v2/keys means: the node, null for "Key not found", or why nothing can be read.</summary>
    internal static V2Node? Interpret(string endpoint, HttpStatusCode status, string body)
    {
        JsonDocument? doc = null;
        try
        {
            doc = JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
        }
        using (doc)
        {
            var root = doc?.RootElement;
            if (root is { ValueKind: JsonValueKind.Object } r && r.TryGetProperty("errorCode", out var code))
            {
                string message = r.TryGetProperty("message", out var m) ? m.GetString() ?? "" : "";
                return code.GetInt32() switch
                {
                    100 => null, // Key not found
                    110 => throw new EtcdV2Exception($"etcd at {endpoint} refused the v2 request ({message}): check --etcd-username/--etcd-password"),
                    _ => throw new EtcdV2Exception($"etcd at {endpoint} answered error {code.GetInt32()}: {message}"),
                };
            }
            if (status == HttpStatusCode.NotFound)
            {
                // etcd without --enable-v2 answers its router's plain "404 page not found".
                throw new EtcdV2Exception($"etcd at {endpoint} does not serve the v2 API (/v2/keys): etcd 3.4 serves it only when " +
                                          "started with --enable-v2 (etcd 3.5 and later have no v2 keyspace left to migrate)");
            }
            if (status == HttpStatusCode.Unauthorized)
            {
                throw new EtcdV2Exception($"etcd at {endpoint} refused the v2 request (401): check --etcd-username/--etcd-password");
            }
            if (status != HttpStatusCode.OK || root is not { ValueKind: JsonValueKind.Object } ok || !ok.TryGetProperty("node", out var node))
            {
                throw new EtcdV2Exception($"etcd at {endpoint} answered {(int)status} {status} to a v2 read: {Truncate(body)}");
            }
            return ReadNode(node);
        }
    }

    private static V2Node ReadNode(JsonElement e)
    {
        var nodes = new List<V2Node>();
        if (e.TryGetProperty("nodes", out var children) && children.ValueKind == JsonValueKind.Array)
        {
            foreach (var c in children.EnumerateArray())
            {
                nodes.Add(ReadNode(c));
            }
        }
        return new V2Node(
            e.TryGetProperty("key", out var k) ? k.GetString() ?? "/" : "/",
            e.TryGetProperty("value", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null,
            e.TryGetProperty("dir", out var d) && d.ValueKind == JsonValueKind.True,
            e.TryGetProperty("ttl", out var t) && t.ValueKind == JsonValueKind.Number ? t.GetInt64() : null,
            nodes);
    }

    // Each segment escaped, the slashes kept: flannel's keys hold only [0-9a-z.-/] but a prefix is the operator's.
    private static string EscapePath(string key) =>
        string.Join('/', key.Split('/').Select(Uri.EscapeDataString)) is var p && p.StartsWith('/') ? p : "/" + p;

    private string Describe(Exception e)
    {
        string text = e.InnerException is { } inner ? $"{e.Message} ({inner.Message})" : e.Message;
        // A refused client certificate shows up as a failed decryption or an aborted handshake, not as a TLS error.
        bool tls = _options.UseTls;
        for (var x = e; x is not null && tls; x = x.InnerException)
        {
            if (x is System.Security.Authentication.AuthenticationException or IOException)
            {
                return EtcdFailure.TlsFailureHint + text;
            }
        }
        return text;
    }

    private static string Truncate(string s) => s.Length <= 200 ? s : s[..200] + "...";

    public void Dispose() => _http.Dispose();
}
