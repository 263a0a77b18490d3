using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using AnomalyZT.Grains.Features;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace AnomalyZT.Grains.Config;

/// <summary>A <c>detectors.yaml</c> that cannot be used; the message names the key, the value and what is allowed.</summary>
public sealed class DetectionConfigException(string message) : Exception(message);

/// <summary>Reads and validates <c>detectors.yaml</c>.</summary>
/// <remarks>Walks the YAML tree by hand rather than binding to classes so that every error names its key path
/// (<c>features.bytes_out.robust_level.threshold is -1; it must be greater than 0</c>) and unknown keys are refused
/// instead of silently ignored: a typo in a threshold must not leave the default in force unnoticed.</remarks>
public static partial class DetectionConfigLoader
{
    private static readonly string[] TopKeys = ["version", "allowed_lateness_seconds", "first_seen", "defaults", "features", "overrides", "nab", "response"];
    private static readonly string[] OverrideKeys = ["match", "features"];
    private static readonly string[] NabKeys = ["detector", "history", "sr_window", "cut", "suppress", "rearm", "likelihood"];
    private static readonly string[] NabDetectorNames = ["novelty", "spike-ssa", "iid-spike", "iid-spike-diff", "iid-changepoint", "sr", "ssa-spike", "ensemble", "combo"];
    private static readonly string[] FeatureKeys = ["bucket_seconds", "enabled", "detectors", "robust_level", "ewma", "hour_of_week", "iid", "ssa", "sr"];
    private static readonly string[] SsaKeys = ["spike_confidence", "spike_history", "change_confidence", "change_history", "training_window", "seasonality_window"];
    private static readonly string[] SrKeys = ["window", "threshold"];
    private static readonly string[] EwmaKeys = ["span", "warmup", "threshold", "relative_floor", "absolute_floor", "direction"];
    private static readonly string[] HourKeys = ["slots", "span", "warmup", "threshold", "relative_floor", "absolute_floor"];
    private static readonly string[] IidKeys = ["spike_confidence", "spike_history", "change_confidence", "change_history", "martingale", "eps"];
    private static readonly string[] RobustKeys = ["window", "warmup", "threshold", "relative_floor", "absolute_floor", "direction"];
    private static readonly string[] FirstSeenKeys = ["warmup_buckets", "capacity", "enabled"];

    // Floors in each feature's own unit, so that tiny absolute moves on a flat baseline are not news.
    private static readonly Dictionary<string, double> BuiltInAbsoluteFloors = new(StringComparer.Ordinal)
    {
        ["bytes_out"] = 65536,
        ["egress_bytes"] = 65536,
        ["ingress_bytes"] = 65536,
        ["gpu_util"] = 5,
        ["gpu_util_unattributed"] = 5,
        ["gpu_mem_used"] = 512,
        ["requests"] = 2,
        ["distinct_resources"] = 2,
        ["distinct_destinations"] = 2,
        ["distinct_dst_ports"] = 2,
    };

    /// <summary>Loads and validates a file.</summary>
    public static DetectionConfig Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (IOException ex)
        {
            throw new DetectionConfigException($"cannot read detector config '{path}': {ex.Message}");
        }

        return Parse(text, path);
    }

    /// <summary>Parses and validates YAML text; <paramref name="source"/> names it in errors.</summary>
    public static DetectionConfig Parse(string yaml, string source)
    {
        YamlMappingNode root;
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(yaml));
            root = stream.Documents.Count == 0 ? new YamlMappingNode() : stream.Documents[0].RootNode as YamlMappingNode
                ?? throw new DetectionConfigException($"{source}: the document must be a mapping of keys to values");
        }
        catch (YamlException ex)
        {
            throw new DetectionConfigException($"{source}: invalid YAML at line {ex.Start.Line}, column {ex.Start.Column}: {ex.Message}");
        }

        CheckKeys(root, string.Empty, TopKeys);
        var version = Scalar(root, "version", string.Empty) ?? "sha256:" + HashPrefix(yaml);
        var lateness = Int(root, "allowed_lateness_seconds", string.Empty, 300, 0, 86_400);

        var firstSeen = new FirstSeenSettings();
        if (Child(root, "first_seen") is { } fs)
        {
            CheckKeys(fs, "first_seen", FirstSeenKeys);
            firstSeen.WarmupBuckets = Int(fs, "warmup_buckets", "first_seen", firstSeen.WarmupBuckets, 0, 100_000);
            firstSeen.Capacity = Int(fs, "capacity", "first_seen", firstSeen.Capacity, 1, 65_536);
            firstSeen.Enabled = Bool(fs, "enabled", "first_seen", firstSeen.Enabled);
        }

        var defaults = new FeatureSettings { BucketSeconds = FeatureCatalog.DefaultBucketSeconds };
        var defaultsNode = Child(root, "defaults");
        if (defaultsNode is not null)
        {
            ApplyFeature(defaultsNode, "defaults", defaults, absoluteFloorSet: out _);
        }

        var featuresNode = Child(root, "features");
        var known = new HashSet<string>(StringComparer.Ordinal);
        foreach (var def in FeatureCatalog.Identity)
        {
            known.Add(def.Name);
        }

        foreach (var def in FeatureCatalog.Node)
        {
            known.Add(def.Name);
        }

        if (featuresNode is not null)
        {
            foreach (var (keyNode, _) in featuresNode.Children)
            {
                var key = (keyNode as YamlScalarNode)?.Value ?? string.Empty;
                if (!known.Contains(key))
                {
                    throw new DetectionConfigException(
                        $"{source}: features.{key} is not a feature; allowed: {string.Join(", ", known.Order(StringComparer.Ordinal))}");
                }
            }
        }

        var features = new Dictionary<string, FeatureSettings>(StringComparer.Ordinal);
        foreach (var name in known)
        {
            var settings = defaults.Clone();
            var defaultsSetFloor = defaultsNode is not null && Child(defaultsNode, "robust_level") is { } drl && HasKey(drl, "absolute_floor");
            if (!defaultsSetFloor && BuiltInAbsoluteFloors.TryGetValue(name, out var floor))
            {
                settings.RobustLevel.AbsoluteFloor = floor;
            }

            if (featuresNode is not null && Child(featuresNode, name) is { } node)
            {
                ApplyFeature(node, "features." + name, settings, out _);
            }

            features[name] = settings;
        }

        var overrides = new List<EntityOverride>();
        if (root.Children.TryGetValue(new YamlScalarNode("overrides"), out var overridesNode))
        {
            if (overridesNode is not YamlSequenceNode list)
            {
                throw new DetectionConfigException($"{source}: overrides must be a list of {{ match, features }} entries");
            }

            var index = 0;
            foreach (var item in list)
            {
                var path = string.Create(CultureInfo.InvariantCulture, $"overrides[{index++}]");
                if (item is not YamlMappingNode entry)
                {
                    throw new DetectionConfigException($"{path} must be a mapping with match and features");
                }

                CheckKeys(entry, path, OverrideKeys);
                var match = Scalar(entry, "match", path);
                if (string.IsNullOrWhiteSpace(match) || !(match.StartsWith("identity/", StringComparison.Ordinal) || match.StartsWith("node/", StringComparison.Ordinal) || match.StartsWith('*')))
                {
                    throw new DetectionConfigException($"{path}.match is '{match}'; it must be a pattern over kind/id such as identity/spiffe://*/ns/ci/* or node/gpu-*");
                }

                var changed = new Dictionary<string, FeatureSettings>(StringComparer.Ordinal);
                if (Child(entry, "features") is { } overrideFeatures)
                {
                    foreach (var (keyNode, _) in overrideFeatures.Children)
                    {
                        var name = (keyNode as YamlScalarNode)?.Value ?? string.Empty;
                        if (!features.TryGetValue(name, out var baseSettings))
                        {
                            throw new DetectionConfigException($"{path}.features.{name} is not a feature; allowed: {string.Join(", ", known.Order(StringComparer.Ordinal))}");
                        }

                        var settings = baseSettings.Clone();
                        var featureNode = overrideFeatures.Children[keyNode] as YamlMappingNode
                            ?? throw new DetectionConfigException($"{path}.features.{name} must be a mapping of feature settings");
                        ApplyFeature(featureNode, path + ".features." + name, settings, out _);
                        changed[name] = settings;
                    }
                }

                overrides.Add(new EntityOverride(match, changed));
            }
        }

        var nab = new NabSettings();
        if (Child(root, "nab") is { } nabNode)
        {
            CheckKeys(nabNode, "nab", NabKeys);
            nab.Detector = Scalar(nabNode, "detector", "nab") ?? nab.Detector;
            if (Array.IndexOf(NabDetectorNames, nab.Detector) < 0)
            {
                throw new DetectionConfigException($"nab.detector is '{nab.Detector}'; allowed: {string.Join(", ", NabDetectorNames)}");
            }

            nab.History = Int(nabNode, "history", "nab", nab.History, 2, 100_000);
            nab.SrWindow = Int(nabNode, "sr_window", "nab", nab.SrWindow, 8, 4096);
            nab.Cut = Double(nabNode, "cut", "nab", nab.Cut, 0, 1);
            nab.Suppress = Int(nabNode, "suppress", "nab", nab.Suppress, 0, 100_000);
            nab.Rearm = Double(nabNode, "rearm", "nab", nab.Rearm, 0, double.PositiveInfinity);
            nab.Likelihood = Bool(nabNode, "likelihood", "nab", nab.Likelihood);
        }

        // Build every resolved feature's detectors once, so a combination the checks above let through fails here,
        // with the key named, and not later inside a partition.
        CheckBuildable(features, "features");
        for (var i = 0; i < overrides.Count; i++)
        {
            CheckBuildable(overrides[i].Features, string.Create(CultureInfo.InvariantCulture, $"overrides[{i}].features"));
        }

        var response = Child(root, "response") is { } responseNode ? ParseResponse(responseNode) : new Policy.ResponsePolicy();

        return new DetectionConfig
        {
            SourceHash = HashPrefix(yaml),
            Response = response,
            Nab = nab,
            Overrides = overrides,
            Version = version,
            AllowedLatenessSeconds = lateness,
            FirstSeen = firstSeen,
            Features = features,
        };
    }

    private static void ApplyFeature(YamlMappingNode node, string path, FeatureSettings target, out bool absoluteFloorSet)
    {
        CheckKeys(node, path, FeatureKeys);
        target.BucketSeconds = Int(node, "bucket_seconds", path, target.BucketSeconds, 10, 86_400);
        target.Enabled = Bool(node, "enabled", path, target.Enabled);
        if (node.Children.TryGetValue(new YamlScalarNode("detectors"), out var list))
        {
            target.Detectors = DetectorList(list, path + ".detectors");
        }

        if (Child(node, "ewma") is { } ewma)
        {
            ApplyEwma(ewma, path + ".ewma", target.Ewma);
        }

        if (Child(node, "hour_of_week") is { } how)
        {
            ApplyHourOfWeek(how, path + ".hour_of_week", target.HourOfWeek);
        }

        if (Child(node, "iid") is { } iid)
        {
            ApplyIid(iid, path + ".iid", target.Iid);
        }

        if (Child(node, "ssa") is { } ssa)
        {
            var sp = path + ".ssa";
            CheckKeys(ssa, sp, SsaKeys);
            var t = target.Ssa;
            t.SpikeConfidence = Double(ssa, "spike_confidence", sp, t.SpikeConfidence, 50, 99.999999);
            t.SpikeHistory = Int(ssa, "spike_history", sp, t.SpikeHistory, 2, 10_000);
            t.ChangeConfidence = Double(ssa, "change_confidence", sp, t.ChangeConfidence, 50, 99.999999);
            t.ChangeHistory = Int(ssa, "change_history", sp, t.ChangeHistory, 2, 10_000);
            // Per-entity training runs on the partition thread: O(L³) and N doubles per entity and feature.
            t.SeasonalityWindow = Int(ssa, "seasonality_window", sp, t.SeasonalityWindow, 2, 200);
            t.TrainingWindow = Int(ssa, "training_window", sp, t.TrainingWindow, 5, 5000);
            if (t.TrainingWindow <= 2 * t.SeasonalityWindow)
            {
                throw new DetectionConfigException(
                    $"{sp}.training_window is {t.TrainingWindow}; it must exceed twice {sp}.seasonality_window ({t.SeasonalityWindow})");
            }
        }

        if (Child(node, "sr") is { } sr)
        {
            var rp = path + ".sr";
            CheckKeys(sr, rp, SrKeys);
            target.Sr.Window = Int(sr, "window", rp, target.Sr.Window, 12, 1024);
            target.Sr.Threshold = Double(sr, "threshold", rp, target.Sr.Threshold, 0.000001, 0.999999);
        }

        absoluteFloorSet = false;
        if (Child(node, "robust_level") is not { } rl)
        {
            return;
        }

        var p = path + ".robust_level";
        CheckKeys(rl, p, RobustKeys);
        var s = target.RobustLevel;
        s.Window = Int(rl, "window", p, s.Window, 8, 4096);
        s.Warmup = Int(rl, "warmup", p, s.Warmup, 3, s.Window);
        s.Threshold = Double(rl, "threshold", p, s.Threshold, 0.5, 1000);
        s.RelativeFloor = Double(rl, "relative_floor", p, s.RelativeFloor, 0, 10);
        s.AbsoluteFloor = Double(rl, "absolute_floor", p, s.AbsoluteFloor, 1e-9, 1e18);
        absoluteFloorSet = HasKey(rl, "absolute_floor");
        var direction = Scalar(rl, "direction", p) ?? s.Direction;
        if (direction is not ("upper" or "both"))
        {
            throw new DetectionConfigException($"{p}.direction is '{direction}'; it must be 'upper' or 'both'");
        }

        s.Direction = direction;
        if (s.Warmup > s.Window)
        {
            throw new DetectionConfigException($"{p}.warmup is {s.Warmup}; it must not exceed {p}.window ({s.Window})");
        }
    }

    private static List<string> DetectorList(YamlNode node, string path)
    {
        if (node is not YamlSequenceNode sequence)
        {
            throw new DetectionConfigException($"{path} must be a list such as [robust_level, ewma]; allowed names: {string.Join(", ", Detectors.SeriesDetectors.Names)}");
        }

        var names = new List<string>();
        foreach (var item in sequence)
        {
            var name = (item as YamlScalarNode)?.Value ?? string.Empty;
            if (Array.IndexOf(Detectors.SeriesDetectors.Names, name) < 0)
            {
                throw new DetectionConfigException($"{path} contains '{name}'; allowed: {string.Join(", ", Detectors.SeriesDetectors.Names)}");
            }

            if (names.Contains(name))
            {
                throw new DetectionConfigException($"{path} lists '{name}' twice");
            }

            names.Add(name);
        }

        return names;
    }

    private static void ApplyEwma(YamlMappingNode node, string p, EwmaSettings s)
    {
        CheckKeys(node, p, EwmaKeys);
        s.Span = Int(node, "span", p, s.Span, 2, 100_000);
        s.Warmup = Int(node, "warmup", p, s.Warmup, 1, 100_000);
        s.Threshold = Double(node, "threshold", p, s.Threshold, 0.5, 1000);
        s.RelativeFloor = Double(node, "relative_floor", p, s.RelativeFloor, 0, 10);
        s.AbsoluteFloor = Double(node, "absolute_floor", p, s.AbsoluteFloor, 1e-9, 1e18);
        s.Direction = Scalar(node, "direction", p) ?? s.Direction;
        if (s.Direction is not ("upper" or "both"))
        {
            throw new DetectionConfigException($"{p}.direction is '{s.Direction}'; it must be 'upper' or 'both'");
        }
    }

    private static void ApplyHourOfWeek(YamlMappingNode node, string p, HourOfWeekSettings s)
    {
        CheckKeys(node, p, HourKeys);
        s.Slots = Int(node, "slots", p, s.Slots, 24, 168);
        if (s.Slots is not (24 or 168))
        {
            throw new DetectionConfigException($"{p}.slots is '{s.Slots}'; it must be 168 (hour of week) or 24 (hour of day)");
        }

        s.Span = Int(node, "span", p, s.Span, 2, 10_000);
        s.Warmup = Int(node, "warmup", p, s.Warmup, 1, 10_000);
        s.Threshold = Double(node, "threshold", p, s.Threshold, 0.5, 1000);
        s.RelativeFloor = Double(node, "relative_floor", p, s.RelativeFloor, 0, 10);
        s.AbsoluteFloor = Double(node, "absolute_floor", p, s.AbsoluteFloor, 1e-9, 1e18);
    }

    private static void ApplyIid(YamlMappingNode node, string p, IidSettings s)
    {
        CheckKeys(node, p, IidKeys);
        s.SpikeConfidence = Double(node, "spike_confidence", p, s.SpikeConfidence, 50, 99.999999);
        s.SpikeHistory = Int(node, "spike_history", p, s.SpikeHistory, 2, 10_000);
        s.ChangeConfidence = Double(node, "change_confidence", p, s.ChangeConfidence, 50, 99.999999);
        s.ChangeHistory = Int(node, "change_history", p, s.ChangeHistory, 2, 10_000);
        s.Epsilon = Double(node, "eps", p, s.Epsilon, 1e-6, 1 - 1e-6);
        s.Martingale = Scalar(node, "martingale", p) ?? s.Martingale;
        if (s.Martingale is not ("power" or "mixture"))
        {
            throw new DetectionConfigException($"{p}.martingale is '{s.Martingale}'; it must be 'power' or 'mixture'");
        }
    }

    private static void CheckBuildable(IReadOnlyDictionary<string, FeatureSettings> features, string path)
    {
        foreach (var (name, settings) in features)
        {
            try
            {
                _ = Detectors.SeriesDetectors.Create(settings);
            }
            catch (ArgumentException ex)
            {
                throw new DetectionConfigException($"{path}.{name}: these settings cannot build their detectors: {ex.Message}");
            }
        }
    }

    private static bool HasKey(YamlMappingNode node, string key) => node.Children.ContainsKey(new YamlScalarNode(key));

    private static YamlMappingNode? Child(YamlMappingNode node, string key)
    {
        if (!node.Children.TryGetValue(new YamlScalarNode(key), out var child))
        {
            return null;
        }

        return child as YamlMappingNode ?? throw new DetectionConfigException($"{key} must be a mapping (key: value lines), not a single value or a list");
    }

    private static void CheckKeys(YamlMappingNode node, string path, string[] allowed)
    {
        foreach (var (keyNode, _) in node.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value ?? string.Empty;
            if (Array.IndexOf(allowed, key) < 0)
            {
                var where = path.Length == 0 ? key : path + "." + key;
                throw new DetectionConfigException($"{where} is not a known key; allowed here: {string.Join(", ", allowed)}");
            }
        }
    }

    private static string? Scalar(YamlMappingNode node, string key, string path)
    {
        if (!node.Children.TryGetValue(new YamlScalarNode(key), out var value))
        {
            return null;
        }

        return value is YamlScalarNode scalar
            ? scalar.Value
            : throw new DetectionConfigException($"{Join(path, key)} must be a single value");
    }

    private static int Int(YamlMappingNode node, string key, string path, int fallback, int min, int max)
    {
        var text = Scalar(node, key, path);
        if (text is null)
        {
            return fallback;
        }

        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) || v < min || v > max)
        {
            throw new DetectionConfigException($"{Join(path, key)} is '{text}'; it must be a whole number from {min} to {max}");
        }

        return v;
    }

    private static double Double(YamlMappingNode node, string key, string path, double fallback, double min, double max)
    {
        var text = Scalar(node, key, path);
        if (text is null)
        {
            return fallback;
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !(v >= min && v <= max))
        {
            throw new DetectionConfigException(
                $"{Join(path, key)} is '{text}'; it must be a number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}");
        }

        return v;
    }

    private static bool Bool(YamlMappingNode node, string key, string path, bool fallback)
    {
        var text = Scalar(node, key, path);
        return text switch
        {
            null => fallback,
            "true" => true,
            "false" => false,
            _ => throw new DetectionConfigException($"{Join(path, key)} is '{text}'; it must be true or false"),
        };
    }

    private static string Join(string path, string key) => path.Length == 0 ? key : path + "." + key;

    private static string HashPrefix(string text)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), digest);
        return Convert.ToHexStringLower(digest[..6]);
    }
}
