using System.Diagnostics;

namespace Flannel.Daemon.Rules;

/// <summary>
/// Runs the host's packet-filter programs (iptables, iptables-restore, nft from Debian's packages: rules are never
/// written by any other path). A prefix such as <c>ip netns exec NS</c> lets tests run them in a namespace.
/// </summary>
internal sealed class ProgramRunner(IReadOnlyList<string>? prefix = null)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <exception cref="RulesException">The program is missing or did not finish in 30 s.</exception>
    public ProgramResult Run(IReadOnlyList<string> argv, string? stdin = null)
    {
        var all = (prefix ?? []).Concat(argv).ToList();
        var psi = new ProcessStartInfo(all[0])
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in all.Skip(1))
        {
            psi.ArgumentList.Add(a);
        }
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new RulesException($"cannot start {all[0]}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new RulesException($"cannot run {all[0]}: {e.Message} (install Debian's iptables or nftables package)", e);
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (stdin is not null)
            {
                process.StandardInput.Write(stdin);
            }
            process.StandardInput.Close();
            if (!process.WaitForExit(Timeout))
            {
                process.Kill(entireProcessTree: true);
                throw new RulesException($"{string.Join(' ', argv)} did not finish in {Timeout.TotalSeconds} s");
            }
            process.WaitForExit();
            var result = new ProgramResult(process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
            // Process.Dispose leaves redirected streams that were read to the finaliser: close the pipes now, or a
            // resync every 5 s piles up pipe descriptors until a GC (seen in bench/soak.sh).
            process.StandardOutput.Dispose();
            process.StandardError.Dispose();
            return result;
        }
    }
}
