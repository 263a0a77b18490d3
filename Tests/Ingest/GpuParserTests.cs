namespace AnomalyZT.Tests.Ingest;

public sealed class GpuParserTests
{
    [Fact]
    public async Task DecodeAsync_FlatDcgmSample_MapsEveryField()
    {
        const string line = """{"timestamp":"2024-05-01T10:00:00Z","Hostname":"gpu-node-3","gpu":"0","UUID":"GPU-5fd4bd52-8c2c-0b6a-1e2f-3a4b5c6d7e8f","device":"nvidia0","modelName":"NVIDIA H100 80GB HBM3","pci_bus_id":"00000000:0D:00.0","DCGM_FI_DRIVER_VERSION":"580.126.09","DCGM_FI_DEV_GPU_UTIL":73,"DCGM_FI_DEV_FB_USED":1234,"DCGM_FI_DEV_FB_FREE":80000,"DCGM_FI_DEV_POWER_USAGE":250.5,"DCGM_FI_DEV_GPU_TEMP":61,"pod":"trainer-0","namespace":"ml","container":"trainer"}""";

        var gpu = (await IngestHarness.DecodeAsync(line, "gpu")).SingleGpu();

        Assert.Equal(1714557600000L, gpu.TimestampMs);
        Assert.Equal("gpu-node-3", gpu.Node);
        Assert.Equal("GPU-5fd4bd52-8c2c-0b6a-1e2f-3a4b5c6d7e8f", gpu.GpuUuid);
        Assert.Equal(0, gpu.GpuIndex);
        Assert.Equal(73, gpu.UtilPct);
        Assert.Equal(1234, gpu.MemUsedMiB);
        Assert.Equal(250.5, gpu.PowerW);
        Assert.Equal("trainer-0", gpu.Pod);
        Assert.Equal("ml", gpu.Namespace);
    }

    [Fact]
    public async Task DecodeAsync_NestedLabelsOldNamesAndUnsupported_MapsAndGivesNaN()
    {
        const string line = """{"timestamp":1714557600.25,"labels":{"hostname":"gpu-node-4","gpu":1,"uuid":"GPU-aa","pod_name":"infer-1","pod_namespace":"serving","container_name":"c"},"DCGM_FI_DEV_GPU_UTIL":9223372036854775794,"DCGM_FI_DEV_FB_USED":"512","DCGM_FI_DEV_POWER_USAGE":null}""";

        var gpu = (await IngestHarness.DecodeAsync(line, "gpu")).SingleGpu();

        Assert.Equal(1714557600250L, gpu.TimestampMs);
        Assert.Equal(("gpu-node-4", "GPU-aa", 1, "infer-1", "serving"), (gpu.Node, gpu.GpuUuid, gpu.GpuIndex, gpu.Pod, gpu.Namespace));
        Assert.True(double.IsNaN(gpu.UtilPct));
        Assert.Equal(512, gpu.MemUsedMiB);
        Assert.True(double.IsNaN(gpu.PowerW));
    }

    [Fact]
    public async Task DecodeAsync_NoGpuIndexOrReadings_GivesMinusOneAndNaN()
    {
        var gpu = (await IngestHarness.DecodeAsync("""{"timestamp":"2024-05-01T10:00:00Z","Hostname":"n1"}""", "gpu")).SingleGpu();

        Assert.Equal(-1, gpu.GpuIndex);
        Assert.True(double.IsNaN(gpu.UtilPct) && double.IsNaN(gpu.MemUsedMiB) && double.IsNaN(gpu.PowerW));
        Assert.Null(gpu.GpuUuid);
    }

    [Theory]
    [InlineData("""{"timestamp":"2024-05-01T10:00:00Z","gpu":"0","DCGM_FI_DEV_GPU_UTIL":73}""", "line 1: missing required field 'Hostname' (or 'hostname')")]
    [InlineData("""{"Hostname":"n1","DCGM_FI_DEV_GPU_UTIL":73}""", "line 1: missing required field 'timestamp'")]
    [InlineData("""{"timestamp":"2024-05-01T10:00:00Z","Hostname":"n1","DCGM_FI_DEV_GPU_UTIL":"high"}""", "line 1: field 'DCGM_FI_DEV_GPU_UTIL' is not a number")]
    [InlineData("""{"timestamp":"2024-05-01T10:00:00Z","Hostname":"n1","gpu":"first"}""", "line 1: field 'gpu' is not a number")]
    [InlineData("""{"timestamp":"2024-05-01T10:00:00Z","Hostname":"n1","gpu":1.5}""", "line 1: field 'gpu' is not a GPU index")]
    [InlineData("""{"timestamp":"2024-05-01T10:00:00Z","labels":{"Hostname":true}}""", "line 1: field 'labels.Hostname' is not a string")]
    [InlineData("""{"timestamp":"2024-05-01T10:00:00Z","Hostname":"n1","DCGM_FI_DEV_POWER_USAGE":1e400}""", "line 1: field 'DCGM_FI_DEV_POWER_USAGE' is out of range")]
    public async Task DecodeAsync_BadSample_RejectsWithSpecificReason(string line, string expected)
    {
        Assert.Equal(expected, (await IngestHarness.DecodeAsync(line, "gpu")).SingleReason());
    }
}
