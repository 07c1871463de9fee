namespace Flannel.Daemon.Commands.Status;

/// <summary>
/// The kernel entries one peer lease asks for, ticked off one by one: what is missing becomes drift, and the count
/// decides whether the peer is programmed, partly or not at all.
/// </summary>
internal sealed class PeerCheck(string subnet, List<StatusDrift> drift)
{
    private readonly List<string> _missing = [];
    private int _expected;

    /// <summary>An entry that must be present; <paramref name="text"/> is the entry as <c>ip</c>/<c>bridge</c> would show it.</summary>
    public void Expect(bool present, string entry, string text)
    {
        _expected++;
        if (!present)
        {
            _missing.Add(entry);
            drift.Add(new StatusDrift(DriftKinds.Missing, entry, $"missing {text}", subnet));
        }
    }

    /// <summary>An entry whose key is there with the wrong content (a neighbour with another MAC).</summary>
    public void Wrong(string entry, string text)
    {
        _expected++;
        _missing.Add(entry);
        drift.Add(new StatusDrift(DriftKinds.Wrong, entry, $"wrong {text}", subnet));
    }

    /// <summary>An entry that cannot be there because something it lives on is missing (already reported once).</summary>
    public void Impossible(string entry)
    {
        _expected++;
        _missing.Add(entry);
    }

    public (string State, string? Detail) Result() =>
        _missing.Count == 0 ? (ProgrammedStates.Yes, null)
        : _missing.Count == _expected ? (ProgrammedStates.No, "missing " + string.Join(", ", _missing))
        : (ProgrammedStates.Partly, "missing " + string.Join(", ", _missing));
}
