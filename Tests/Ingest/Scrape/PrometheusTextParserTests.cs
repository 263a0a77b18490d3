using AnomalyZT.Ingest.Scrape;

namespace AnomalyZT.Tests.Ingest.Scrape;

public sealed class PrometheusTextParserTests
{
    [Fact]
    public void Parse_DcgmExcerpt_ReadsEverySampleWithLabels()
    {
        var result = PrometheusTextParser.Parse(DcgmText.Excerpt);

        Assert.Empty(result.Errors);
        Assert.Equal(8, result.Samples.Count);
        var first = result.Samples[0];
        Assert.Equal("DCGM_FI_DEV_SM_CLOCK", first.Name);
        Assert.Equal("0", first.Label("gpu"));
        Assert.Equal("NVIDIA H100 80GB HBM3", first.Label("modelName"));
        Assert.Equal("550.54.15", first.Label("DCGM_FI_DRIVER_VERSION"));
        Assert.Equal(1980, first.Value);
        Assert.Null(first.TimestampMs);
        Assert.Equal(3, first.LineNumber);
    }

    [Fact]
    public void DcgmSamples_From_GroupsByGpuAndBlanksSentinels()
    {
        var result = PrometheusTextParser.Parse(DcgmText.Excerpt);

        var gpus = DcgmSamples.From(result.Samples, 1_714_557_600_000);

        Assert.Equal(2, gpus.Count);
        var g0 = gpus[0];
        Assert.Equal(("gpu-node-1", 0, "GPU-11111111-2222-3333-4444-555555555555"), (g0.Node, g0.GpuIndex, g0.GpuUuid));
        Assert.Equal((87d, 40960d, 612.345), (g0.UtilPct, g0.MemUsedMiB, g0.PowerW));
        Assert.Equal(("trainer-0", "ml"), (g0.Pod, g0.Namespace));
        Assert.Equal(1_714_557_600_000, g0.TimestampMs);
        var g1 = gpus[1];
        Assert.Equal(1, g1.GpuIndex);
        Assert.True(double.IsNaN(g1.UtilPct));
        Assert.Equal(0, g1.MemUsedMiB);
        Assert.True(double.IsNaN(g1.PowerW));
        Assert.Null(g1.Pod);
    }

    [Fact]
    public void DcgmSamples_From_ExportedLabelsLowercaseHostAndLineTimestamp()
    {
        const string text = """
            DCGM_FI_DEV_GPU_UTIL{gpu="2",uuid="GPU-x",hostname="n2",exported_pod="p",exported_namespace="ns"} 5 1714557601000
            DCGM_FI_DEV_POWER_USAGE{gpu="2",uuid="GPU-x",hostname="n2"} NaN
            DCGM_FI_DEV_FB_USED{gpu="3"} 1
            """;
        var errors = new List<PrometheusLineError>();

        var gpus = DcgmSamples.From(PrometheusTextParser.Parse(text).Samples, 1, null, errors);

        var g = Assert.Single(gpus);
        Assert.Equal(("n2", 2, "GPU-x", "p", "ns"), (g.Node, g.GpuIndex, g.GpuUuid, g.Pod, g.Namespace));
        Assert.Equal(1_714_557_601_000, g.TimestampMs);
        Assert.Equal(5, g.UtilPct);
        Assert.True(double.IsNaN(g.PowerW));
        Assert.True(double.IsNaN(g.MemUsedMiB));
        Assert.Equal(3, Assert.Single(errors).LineNumber);
    }

    [Fact]
    public void Parse_LabelEscapesAndSpecialValues()
    {
        const string text = "m{a=\"x\\\\y\",b=\"say \\\"hi\\\"\",c=\"l1\\nl2\",} +Inf\n"
            + "m -Inf 42\n"
            + "m{} NaN\n"
            + "m 1.5e3\r\n";

        var result = PrometheusTextParser.Parse(text);

        Assert.Empty(result.Errors);
        Assert.Equal(4, result.Samples.Count);
        var s = result.Samples[0];
        Assert.Equal("x\\y", s.Label("a"));
        Assert.Equal("say \"hi\"", s.Label("b"));
        Assert.Equal("l1\nl2", s.Label("c"));
        Assert.Equal(double.PositiveInfinity, s.Value);
        Assert.Equal((double.NegativeInfinity, 42L), (result.Samples[1].Value, result.Samples[1].TimestampMs));
        Assert.True(double.IsNaN(result.Samples[2].Value));
        Assert.Equal(1500, result.Samples[3].Value);
    }

    [Fact]
    public void Parse_MalformedLines_AreCountedAndTheRestRead()
    {
        const string text = """
            # TYPE m gauge
            # TYPE m bogus
            # HELP
            {a="b"} 1
            m{a="b" 1
            m{a=b} 1
            m{a="\x"} 1
            m{a="open} 1
            m
            m abc
            m 1 notatime
            m 1 2 3
            m Infinity
            ok 7
            """;

        var result = PrometheusTextParser.Parse(text);

        Assert.Equal(12, result.Errors.Count);
        Assert.Equal(["ok"], result.Samples.Select(s => s.Name));
        Assert.Equal(2, result.Errors[0].LineNumber);
    }

    [Fact]
    public void Parse_Limits_BoundLineLengthAndLabels()
    {
        var limits = new PrometheusParseLimits { MaxLineLength = 50, MaxLabels = 2 };
        var text = "m{a=\"1\",b=\"2\",c=\"3\"} 1\n" + "m{a=\"" + new string('x', 100) + "\"} 1\nm{a=\"1\"} 2\n";

        var result = PrometheusTextParser.Parse(text, limits);

        Assert.Equal(2, result.Errors.Count);
        Assert.Equal(2, Assert.Single(result.Samples).Value);
        Assert.True(result.Errors[1].Line.Length <= PrometheusTextParser.MaxErrorLineChars);
    }

    [Fact]
    public void Parse_Garbage_NeverThrows()
    {
        var random = new Random(7);
        const string alphabet = "m{}=\",\\n #\t1.eE+-Inf\r\nabc_:";
        for (var i = 0; i < 500; i++)
        {
            var chars = new char[random.Next(0, 80)];
            for (var j = 0; j < chars.Length; j++)
            {
                chars[j] = alphabet[random.Next(alphabet.Length)];
            }

            var result = PrometheusTextParser.Parse(new string(chars));
            Assert.True(result.Samples.Count + result.Errors.Count <= result.Lines);
        }
    }
}
