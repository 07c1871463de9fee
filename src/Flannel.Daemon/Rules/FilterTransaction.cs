namespace Flannel.Daemon.Rules;

/// <summary>One write of our rules as a single transaction of the host's program (iptables-restore, nft -f).</summary>
internal static class FilterTransaction
{
    private const int Attempts = 3;

    /// <summary>
    /// Plans from <paramref name="state"/> (or a fresh read) and runs <paramref name="command"/> with the payload. A
    /// refused transaction is planned again from a fresh read: a rule it was to delete, or a chain it was to create,
    /// changed meanwhile (another daemon, an operator). Nothing is run when the plan is empty.
    /// </summary>
    /// <exception cref="RulesException">Refused <see cref="Attempts"/> times.</exception>
    public static void Write<TState>(ProgramRunner run, RulesLock.Held held, TState? state, Func<TState> read, Func<TState, string?> plan,
        string[] command, string name)
        where TState : class
    {
        for (int attempt = 1; ; attempt++)
        {
            state ??= read();
            string? payload = plan(state);
            if (payload is null)
            {
                return;
            }
            var r = run.Run(command, payload);
            if (r.ExitCode == 0)
            {
                held.Wrote();
                return;
            }
            if (attempt == Attempts)
            {
                throw new RulesException($"{name} failed (exit {r.ExitCode}): {r.Stderr.Trim()}");
            }
            state = null;
        }
    }

    /// <summary>Runs one payload that needs no plan (removals of the other mode).</summary>
    /// <exception cref="RulesException">The program refused it.</exception>
    public static void Run(ProgramRunner run, string[] command, string payload, string name)
    {
        var r = run.Run(command, payload);
        if (r.ExitCode != 0)
        {
            throw new RulesException($"{name} failed (exit {r.ExitCode}): {r.Stderr.Trim()}");
        }
    }
}
