using System.Diagnostics;

namespace Flannel.TestSupport;

/// <summary>Runs a program to completion; a non-zero exit or a hang fails loudly with its stderr.</summary>
public static class Command
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <returns>Standard output.</returns>
    /// <exception cref="InvalidOperationException">The program exited non-zero.</exception>
    /// <exception cref="TimeoutException">It did not finish in 60 s (killed, by its pid; the message has its output).</exception>
    public static string Run(string program, params string[] arguments)
    {
        var result = TryRun(program, arguments);
        return result.ExitCode == 0
            ? result.Stdout
            : throw new InvalidOperationException($"`{result.CommandLine}` exited {result.ExitCode}: {result.Stderr.Trim()}");
    }

    /// <summary>Runs the program and returns its exit code and output, whatever the exit code.</summary>
    public static CommandResult TryRun(string program, params string[] arguments) => TryRun(program, arguments, null);

    /// <summary>
    /// Runs the program with changes to the inherited environment (a null value removes the variable, a name ending in
    /// <c>*</c> removes every variable with that prefix) and an optional working directory; it is killed after
    /// <paramref name="timeout"/> (60 s unless told).
    /// </summary>
    public static CommandResult TryRun(string program, IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string?>? environment, string? workingDirectory = null, TimeSpan? timeout = null)
    {
        var limit = timeout ?? Timeout;
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (workingDirectory is not null)
        {
            start.WorkingDirectory = workingDirectory;
        }
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (name.EndsWith('*'))
            {
                foreach (var existing in start.Environment.Keys.Where(k => k.StartsWith(name[..^1], StringComparison.Ordinal)).ToList())
                {
                    start.Environment.Remove(existing);
                }
            }
            else if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }
        string commandLine = string.Join(' ', [program, .. start.ArgumentList]);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"`{commandLine}` did not start");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(limit))
        {
            // Only this process (and its children), by the pid we started.
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new TimeoutException($"`{commandLine}` did not finish in {limit.TotalSeconds} s; killed pid {process.Id}\n{stdout.Result}{stderr.Result}");
        }
        return new CommandResult(commandLine, process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }
}

public sealed record CommandResult(string CommandLine, int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"`{CommandLine}` exited {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}
