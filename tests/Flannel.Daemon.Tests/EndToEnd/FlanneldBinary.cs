namespace Flannel.Daemon.Tests.EndToEnd;

/// <summary>
/// The flanneld the end-to-end tests run: $FLANNELD_BINARY (scripts/test.sh points it at the published native binary),
/// else the app host built next to the tests.
/// </summary>
internal static class FlanneldBinary
{
    public static string Path
    {
        get
        {
            string? env = Environment.GetEnvironmentVariable("FLANNELD_BINARY");
            string path = !string.IsNullOrEmpty(env) ? env : System.IO.Path.Combine(AppContext.BaseDirectory, "flanneld");
            return File.Exists(path) ? path : throw new FileNotFoundException($"flanneld binary not found at {path} (set FLANNELD_BINARY)");
        }
    }
}
