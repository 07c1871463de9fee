using System.Diagnostics;

namespace Flannel.TestSupport;

/// <summary>Runs a program and returns its output; a non-zero exit is an exception carrying stderr.</summary>
public static class Shell
{
    public static string Run(string file, params string[] args) => Run(file, args, check: true).Stdout;

    public static (int Code, string Stdout, string Stderr) Run(string file, IEnumerable<string> args, bool check, string? stdin = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        if (stdin is not null)
        {
            p.StandardInput.Write(stdin);
            p.StandardInput.Close();
        }
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        string err = stderr.GetAwaiter().GetResult();
        if (check && p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {p.ExitCode}: {err.Trim()}");
        }
        return (p.ExitCode, stdout, err);
    }
}
