using AnomalyZT.Grains.Config;
using AnomalyZT.Grains.Detectors;
using AnomalyZT.Grains.Detectors.TimeSeries;
using BenchmarkDotNet.Attributes;

namespace AnomalyZT.Benchmarks;

/// <summary>Cost of one update of each detector at its default parameters, in steady state (after warm-up).</summary>
[MemoryDiagnoser]
public class DetectorBenchmarks
{
    private const int Batch = 1000;
    private double[] _values = [];
    private Func<double, long, bool> _update = (_, _) => false;

    [Params("robust_level", "ewma", "hour_of_week", "iid_spike", "iid_changepoint", "ssa_spike", "ssa_changepoint", "sr")]
    public string Detector { get; set; } = "robust_level";

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(3);
        _values = new double[Batch];
        for (var i = 0; i < Batch; i++)
        {
            _values[i] = 100 + (10 * Math.Sin(i / 7.0)) + rng.NextDouble();
        }

        _update = DefaultDetectors.Create(Detector);
        for (var i = 0; i < 2000; i++)
        {
            _update(_values[i % Batch], i * 600_000L);
        }
    }

    /// <summary>1,000 updates; the reported time is per update.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public int Update()
    {
        var alerts = 0;
        for (var i = 0; i < _values.Length; i++)
        {
            if (_update(_values[i], i * 600_000L))
            {
                alerts++;
            }
        }

        return alerts;
    }
}

/// <summary>Each detector at its own defaults (the ML.NET defaults for the time-series ones).</summary>
internal static class DefaultDetectors
{
    public static readonly string[] Names = ["robust_level", "ewma", "hour_of_week", "iid_spike", "iid_changepoint", "ssa_spike", "ssa_changepoint", "sr"];

    public static Func<double, long, bool> Create(string name)
    {
        switch (name)
        {
            case "robust_level":
                var robust = new RobustLevelDetector(new RobustLevelSettings());
                return (x, t) => robust.Update(x, t).IsAnomaly;
            case "ewma":
                var ewma = new EwmaDetector(new EwmaSettings());
                return (x, t) => ewma.Update(x, t).IsAnomaly;
            case "hour_of_week":
                var how = new HourOfWeekDetector(new HourOfWeekSettings());
                return (x, t) => how.Update(x, t).IsAnomaly;
            default:
                var s = Streaming(name);
                return (x, _) => s.Update(x).Alert;
        }
    }

    public static IStreamingDetector Streaming(string name) => name switch
    {
        "iid_spike" => new IidSpikeDetector(),
        "iid_changepoint" => new IidChangePointDetector(),
        "ssa_spike" => new SsaSpikeDetector(),
        "ssa_changepoint" => new SsaChangePointDetector(),
        "sr" => new SpectralResidualStream(64, 0.3),
        _ => throw new ArgumentException(name),
    };

    /// <summary>Bytes each detector writes as state after 2,000 updates.</summary>
    public static void PrintStateSizes(TextWriter output)
    {
        foreach (var name in Names)
        {
            using var stream = new MemoryStream();
            using var writer = new BinaryWriter(stream);
            ISeriesDetector? series = name switch
            {
                "robust_level" => new RobustLevelDetector(new RobustLevelSettings()),
                "ewma" => new EwmaDetector(new EwmaSettings()),
                "hour_of_week" => new HourOfWeekDetector(new HourOfWeekSettings()),
                _ => null,
            };
            var streaming = series is null ? Streaming(name) : null;
            for (var i = 0; i < 2000; i++)
            {
                var x = 100 + (10 * Math.Sin(i / 7.0));
                if (series is not null)
                {
                    series.Update(x, i * 600_000L);
                }
                else
                {
                    streaming!.Update(x);
                }
            }

            if (series is not null)
            {
                series.Write(writer);
            }
            else
            {
                streaming!.Write(writer);
            }

            writer.Flush();
            output.WriteLine($"{name}: {stream.Length} bytes of state");
        }
    }
}
