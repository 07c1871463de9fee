using System.Globalization;

namespace Flannel.Daemon.Cli;

internal sealed class Flag<T> : Flag
{
    private readonly Func<string, T> _parse;
    private readonly Func<T, T, T>? _combine;
    private readonly T _default;

    internal Flag(string name, T defaultValue, string help, string group, bool isBool, Func<string, T> parse, Func<T, T, T>? combine = null)
        : base(name, help, group, isBool)
    {
        _default = defaultValue;
        Value = defaultValue;
        _parse = parse;
        _combine = combine;
    }

    public T Value { get; private set; }

    public override string DefaultText => _default switch
    {
        string s => s.Length == 0 ? "" : $"\"{s}\"",
        bool b => b ? "true" : "false",
        IReadOnlyList<string> => "",
        _ => Convert.ToString(_default, CultureInfo.InvariantCulture) ?? "",
    };

    internal override void Set(string value, bool fromCommandLine, string? source = null)
    {
        T parsed;
        try
        {
            parsed = _parse(value);
        }
        catch (FormatException e)
        {
            string where = source is null ? $"flag --{Name}" : $"environment variable {source}";
            throw new FlagException($"invalid value \"{value}\" for {where}: {e.Message}");
        }
        Value = _combine is not null && IsSet ? _combine(Value, parsed) : parsed;
        IsSet = true;
        IsSetOnCommandLine |= fromCommandLine;
    }
}
