using System.Globalization;

namespace Flannel.Daemon.Cli;

/// <summary>
/// Command-line flags with Go's <c>flag</c> package syntax, which flanneld users have in their units:
/// <c>-flag</c> and <c>--flag</c> alike, <c>--flag=value</c> or <c>--flag value</c>, booleans as <c>--ip-masq</c> or
/// <c>--ip-masq=false</c>, repeatable list flags. A flag not given is read from <c>FLANNELD_&lt;NAME&gt;</c>
/// (flanneld's <c>flagutil.SetFlagsFromEnv</c>): upper case, '-' as '_', empty values ignored.
/// </summary>
internal sealed class FlagSet
{
    private readonly Dictionary<string, Flag> _flags = new(StringComparer.Ordinal);
    private readonly List<Flag> _order = [];

    public FlagSet(string envPrefix = "FLANNELD") => EnvPrefix = envPrefix;

    public string EnvPrefix { get; }

    public IReadOnlyList<Flag> Flags => _order;

    public IReadOnlyList<string> Positional { get; private set; } = [];

    public Flag<string> Text(string name, string defaultValue, string help, string group = "") =>
        Add(new Flag<string>(name, defaultValue, help, group, false, s => s));

    public Flag<bool> Switch(string name, bool defaultValue, string help, string group = "") =>
        Add(new Flag<bool>(name, defaultValue, help, group, true, ParseBool));

    public Flag<int> Number(string name, int defaultValue, string help, string group = "") =>
        Add(new Flag<int>(name, defaultValue, help, group, false,
            s => int.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v) ? v : throw new FormatException("invalid syntax")));

    /// <summary>A flag that may be given several times (<c>--iface</c>); from the environment it is one value.</summary>
    public Flag<IReadOnlyList<string>> List(string name, string help, string group = "") =>
        Add(new Flag<IReadOnlyList<string>>(name, [], help, group, false, s => [s], (old, add) => [.. old, .. add]));

    private T Add<T>(T flag) where T : Flag
    {
        _flags.Add(flag.Name, flag);
        _order.Add(flag);
        return flag;
    }

    // Go's strconv.ParseBool.
    private static bool ParseBool(string s) => s switch
    {
        "1" or "t" or "T" or "TRUE" or "true" or "True" => true,
        "0" or "f" or "F" or "FALSE" or "false" or "False" => false,
        _ => throw new FormatException("invalid syntax"),
    };

    /// <summary>Parses <paramref name="args"/>, then fills unset flags from the environment.</summary>
    /// <exception cref="FlagException">An unknown flag, a missing or bad value; <see cref="FlagException.IsHelp"/> for -h/--help.</exception>
    public void Parse(IReadOnlyList<string> args, Func<string, string?>? getEnv = null)
    {
        int i = 0;
        for (; i < args.Count; i++)
        {
            string a = args[i];
            if (a == "--")
            {
                i++;
                break;
            }
            if (a.Length < 2 || a[0] != '-')
            {
                break; // the first non-flag argument ends the flags, as in Go
            }
            string body = a[1] == '-' ? a[2..] : a[1..];
            if (body.Length == 0 || body[0] == '-' || body[0] == '=')
            {
                throw new FlagException($"bad flag syntax: {a}");
            }
            string name = body;
            string? value = null;
            int eq = body.IndexOf('=');
            if (eq >= 0)
            {
                name = body[..eq];
                value = body[(eq + 1)..];
            }
            if (!_flags.TryGetValue(name, out var flag))
            {
                if (name is "h" or "help")
                {
                    throw new FlagException("help requested", isHelp: true);
                }
                string? near = Flannel.Subnet.Config.KeySuggester.Suggest(name, _order.Select(f => f.Name).Append("help").ToList());
                throw new FlagException(near is null ? $"unknown flag --{name}" : $"unknown flag --{name} (did you mean --{near}?)");
            }
            if (value is null)
            {
                if (flag.IsBool)
                {
                    value = "true";
                }
                else if (i + 1 < args.Count)
                {
                    value = args[++i];
                }
                else
                {
                    throw new FlagException($"flag --{name} needs a value (--{name}=VALUE or --{name} VALUE)");
                }
            }
            flag.Set(value, fromCommandLine: true);
        }
        Positional = args.Skip(i).ToList();

        getEnv ??= Environment.GetEnvironmentVariable;
        foreach (var flag in _order)
        {
            if (flag.IsSetOnCommandLine)
            {
                continue;
            }
            string env = EnvName(flag.Name);
            string? value = getEnv(env);
            if (!string.IsNullOrEmpty(value))
            {
                flag.Set(value, fromCommandLine: false, source: env);
            }
        }
    }

    public string EnvName(string flagName) => $"{EnvPrefix}_{flagName.ToUpperInvariant().Replace('-', '_')}";
}
