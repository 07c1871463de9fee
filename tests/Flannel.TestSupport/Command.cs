using System.Diagnostics;

namespace Flannel.TestSupport;

/// <summary>Runs a program to completion; a non-zero exit or a hang fails loudly with its stderr.</summary>
public static class Command
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <returns>Standard output.</returns>
    /// <exception cref="InvalidOperationException">The program exited non-zero or did not finish in 60 s.</exception>
    public static string Run(string program, params string[] arguments)
    {
        var result = TryRun(program, arguments);
        return result.ExitCode == 0
            ? result.Stdout
            : throw new InvalidOperationException($"`{result.CommandLine}` exited {result.ExitCode}: {result.Stderr.Trim()}");
    }

    /// <summary>Runs the program and returns its exit code and output, whatever the exit code.</summary>
    public static CommandResult TryRun(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        string commandLine = string.Join(' ', [program, .. arguments]);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"`{commandLine}` did not start");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            // Only this process (and its children), by the pid we started.
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new InvalidOperationException($"`{commandLine}` did not finish in {Timeout.TotalSeconds} s; killed pid {process.Id}");
        }
        return new CommandResult(commandLine, process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }
}

public sealed record CommandResult(string CommandLine, int ExitCode, string Stdout, string Stderr);
