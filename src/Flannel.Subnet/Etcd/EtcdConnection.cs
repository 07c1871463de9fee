using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using dotnet_etcd;
using Etcdserverpb;
using Grpc.Core;

namespace Flannel.Subnet.Etcd;

/// <summary>
/// One etcd client for all endpoints (gRPC round-robin over the ready ones), with client TLS and etcd
/// username/password authentication. Calls go through <see cref="CallAsync{T}"/> so an expired auth token is renewed.
/// </summary>
public sealed class EtcdConnection : IDisposable
{
    private readonly EtcdOptions _options;
    private readonly SemaphoreSlim _authLock = new(1, 1);
    private Metadata? _headers;

    public EtcdConnection(EtcdOptions options)
    {
        _options = options;
        if (options.Endpoints.Count == 0)
        {
            throw new ArgumentException("at least one etcd endpoint is needed", nameof(options));
        }
        // dotnet-etcd takes the endpoints as one comma list and ignores each scheme; TLS comes from the SSL overload.
        string endpoints = string.Join(',', options.Endpoints);
        Client = options.UseTls
            ? new EtcdClient(endpoints, o => ConfigureTls(options, o), configureChannelOptions: ConfigureChannel)
            : new EtcdClient(endpoints, configureChannelOptions: ConfigureChannel);
    }

    /// <summary>
    /// HTTP/2 keepalive pings while calls are open: a member that vanished without a FIN, or a path that died, is
    /// noticed within 15 s (etcd's --grpc-keepalive-min-time is 5 s, so 10 s is allowed). dotnet-etcd has made its
    /// SocketsHttpHandler (with the TLS options) by the time this runs.
    /// </summary>
    private static void ConfigureChannel(Grpc.Net.Client.GrpcChannelOptions o)
    {
        if (o.HttpHandler is SocketsHttpHandler handler)
        {
            handler.KeepAlivePingDelay = TimeSpan.FromSeconds(10);
            handler.KeepAlivePingTimeout = TimeSpan.FromSeconds(5);
            handler.KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests;
        }
    }

    /// <summary>
    /// Ends this process's TCP connections made from <paramref name="local"/>: that address left the host (the external
    /// interface was renumbered), so nothing comes back on them, and calls would hang until the keepalive gives up.
    /// The open calls fail at once and are retried on new connections from the current address. Returns how many.
    /// </summary>
    public static int DropConnectionsFrom(IPAddress local) => OwnTcpSockets.ShutDownFrom(local);

    public EtcdClient Client { get; }

    public EtcdOptions Options => _options;

    /// <summary>The headers every call carries (the auth token when etcd auth is on).</summary>
    public async ValueTask<Metadata?> GetHeadersAsync(CancellationToken ct)
    {
        if (string.IsNullOrEmpty(_options.Username) || _headers is not null)
        {
            return _headers;
        }
        await _authLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_headers is null)
            {
                var resp = await Client.AuthenticateAsync(
                    new AuthenticateRequest { Name = _options.Username, Password = _options.Password ?? "" },
                    cancellationToken: ct).ConfigureAwait(false);
                _headers = new Metadata { { "token", resp.Token } };
            }
            return _headers;
        }
        finally
        {
            _authLock.Release();
        }
    }

    /// <summary>Runs one etcd call with the current headers; on an invalid or expired token, authenticates again once.</summary>
    /// <param name="operation">The metric's op tag: the calling method's name (e.g. GetLeasesAsync -> GetLeases).</param>
    public async Task<T> CallAsync<T>(Func<Metadata?, Task<T>> call, CancellationToken ct,
        [System.Runtime.CompilerServices.CallerMemberName] string operation = "")
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        bool ok = false;
        try
        {
            var result = await CallWithAuthAsync(call, ct).ConfigureAwait(false);
            ok = true;
            return result;
        }
        finally
        {
            SubnetMetrics.EtcdRequest(operation.EndsWith("Async", StringComparison.Ordinal) ? operation[..^5] : operation,
                System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds, ok);
        }
    }

    private async Task<T> CallWithAuthAsync<T>(Func<Metadata?, Task<T>> call, CancellationToken ct)
    {
        try
        {
            var headers = await GetHeadersAsync(ct).ConfigureAwait(false);
            try
            {
                return await call(headers).ConfigureAwait(false);
            }
            catch (RpcException e) when (headers is not null && e.StatusCode == StatusCode.Unauthenticated)
            {
                _headers = null;
                headers = await GetHeadersAsync(ct).ConfigureAwait(false);
                return await call(headers).ConfigureAwait(false);
            }
        }
        catch (RpcException e) when (_options.UseTls && IsTlsFailure(e))
        {
            // gRPC reports a refused client certificate as a failed HTTP/2 handshake: say what the operator can fix.
            throw new RpcException(new Status(e.StatusCode, TlsFailureHint + (EtcdFailure.ConnectCause(e) ?? e.Status.Detail), e.Status.DebugException), e.Trailers);
        }
        catch (RpcException e) when (EtcdFailure.ConnectCause(e) is { } cause)
        {
            // The status (Unavailable) stays, so every retry decision stays the same; only the text changes.
            throw new RpcException(new Status(StatusCode.Unavailable, EtcdFailure.Unreachable(_options.Endpoints, cause), e.Status.DebugException), e.Trailers);
        }
    }

    internal const string TlsFailureHint =
        "TLS handshake with etcd failed (check that --etcd-cafile is the CA of etcd's server certificate and that etcd " +
        "trusts the client certificate of --etcd-certfile/--etcd-keyfile): ";

    private static bool IsTlsFailure(RpcException e)
    {
        if (e.StatusCode is not (StatusCode.Unavailable or StatusCode.Internal))
        {
            return false;
        }
        for (Exception? x = e.Status.DebugException; x is not null; x = x.InnerException)
        {
            if (x is System.Security.Authentication.AuthenticationException || x.GetType().Name.Contains("Ssl", StringComparison.Ordinal))
            {
                return true;
            }
        }
        return e.Status.Detail.Contains("HTTP/2 handshake", StringComparison.Ordinal) ||
               e.Status.Detail.Contains("SSL", StringComparison.Ordinal);
    }

    /// <summary>Forgets the auth token so the next call authenticates again (after the server rejected it).</summary>
    public void InvalidateToken() => _headers = null;

    /// <summary>Client certificate, TLS versions and --etcd-cafile as the only root of trust (also for the v2 API client).</summary>
    internal static void ConfigureTls(EtcdOptions options, SslClientAuthenticationOptions o)
    {
        if (!string.IsNullOrEmpty(options.CertFile) && !string.IsNullOrEmpty(options.KeyFile))
        {
            o.ClientCertificates = [X509Certificate2.CreateFromPemFile(options.CertFile, options.KeyFile)];
        }
        o.EnabledSslProtocols = System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13;
        if (!string.IsNullOrEmpty(options.CaFile))
        {
            var ca = X509CertificateLoader.LoadCertificateFromFile(options.CaFile);
            o.RemoteCertificateValidationCallback = (_, cert, _, errors) =>
            {
                if (cert is null)
                {
                    return false;
                }
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                // Name mismatches are still errors; only the root of trust is ours.
                return chain.Build(new X509Certificate2(cert)) &&
                       (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) == SslPolicyErrors.None;
            };
        }
    }

    public void Dispose()
    {
        Client.Dispose();
        _authLock.Dispose();
    }
}
