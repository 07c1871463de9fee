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

    /// <summary>The headers every call carries (the auth token when etcd auth is on); throws gRPC's own exceptions.</summary>
    internal async ValueTask<Metadata?> GetHeadersAsync(CancellationToken ct)
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

    /// <summary>
    /// Runs one etcd call with the current headers; on an invalid or expired token, authenticates again once. A failure
    /// is thrown as an <see cref="EtcdException"/>; a cancellation by <paramref name="ct"/> as an
    /// <see cref="OperationCanceledException"/>.
    /// </summary>
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
        catch (RpcException e)
        {
            throw Translate(e, ct);
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            // Not our token: the HTTP/2 connection was aborted under the call. Converted once here, so no caller
            // mistakes it for its own cancellation or has to tell the two apart.
            throw new EtcdUnavailableException(EtcdException.UnavailableCode, EtcdFailure.ConnectionLost, e);
        }
        finally
        {
            SubnetMetrics.EtcdRequest(operation.EndsWith("Async", StringComparison.Ordinal) ? operation[..^5] : operation,
                System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds, ok);
        }
    }

    /// <summary>
    /// What a failed gRPC call is thrown as: a cancellation by <paramref name="ct"/> stays one, anything else becomes
    /// the <see cref="EtcdException"/> that says what failed.
    /// </summary>
    internal Exception Translate(RpcException e, CancellationToken ct) =>
        e.StatusCode == StatusCode.Cancelled && ct.IsCancellationRequested
            ? new OperationCanceledException(e.Status.Detail, e, ct)
            : EtcdFailure.ToException(e, _options.Endpoints, _options.UseTls);

    private async Task<T> CallWithAuthAsync<T>(Func<Metadata?, Task<T>> call, CancellationToken ct)
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
