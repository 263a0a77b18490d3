namespace AnomalyZT.Tests.Ingest.Scrape;

/// <summary>An excerpt in the shape of dcgm-exporter's default counters output (written for these tests).</summary>
internal static class DcgmText
{
    public const string Excerpt = """
        # HELP DCGM_FI_DEV_SM_CLOCK SM clock frequency (in MHz).
        # TYPE DCGM_FI_DEV_SM_CLOCK gauge
        DCGM_FI_DEV_SM_CLOCK{gpu="0",UUID="GPU-11111111-2222-3333-4444-555555555555",device="nvidia0",modelName="NVIDIA H100 80GB HBM3",Hostname="gpu-node-1",DCGM_FI_DRIVER_VERSION="550.54.15"} 1980
        DCGM_FI_DEV_SM_CLOCK{gpu="1",UUID="GPU-66666666-7777-8888-9999-000000000000",device="nvidia1",modelName="NVIDIA H100 80GB HBM3",Hostname="gpu-node-1",DCGM_FI_DRIVER_VERSION="550.54.15"} 1980
        # HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).
        # TYPE DCGM_FI_DEV_GPU_UTIL gauge
        DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-11111111-2222-3333-4444-555555555555",device="nvidia0",modelName="NVIDIA H100 80GB HBM3",Hostname="gpu-node-1",DCGM_FI_DRIVER_VERSION="550.54.15",container="trainer",namespace="ml",pod="trainer-0"} 87
        DCGM_FI_DEV_GPU_UTIL{gpu="1",UUID="GPU-66666666-7777-8888-9999-000000000000",device="nvidia1",modelName="NVIDIA H100 80GB HBM3",Hostname="gpu-node-1",DCGM_FI_DRIVER_VERSION="550.54.15"} 9223372036854775794
        # HELP DCGM_FI_DEV_FB_USED Framebuffer memory used (in MiB).
        # TYPE DCGM_FI_DEV_FB_USED gauge
        DCGM_FI_DEV_FB_USED{gpu="0",UUID="GPU-11111111-2222-3333-4444-555555555555",device="nvidia0",modelName="NVIDIA H100 80GB HBM3",Hostname="gpu-node-1",DCGM_FI_DRIVER_VERSION="550.54.15",container="trainer",namespace="ml",pod="trainer-0"} 40960
        DCGM_FI_DEV_FB_USED{gpu="1",UUID="GPU-66666666-7777-8888-9999-000000000000",device="nvidia1",modelName="NVIDIA H100 80GB HBM3",Hostname="gpu-node-1",DCGM_FI_DRIVER_VERSION="550.54.15"} 0
        # HELP DCGM_FI_DEV_POWER_USAGE Power draw (in W).
        # TYPE DCGM_FI_DEV_POWER_USAGE gauge
        DCGM_FI_DEV_POWER_USAGE{gpu="0",UUID="GPU-11111111-2222-3333-4444-555555555555",device="nvidia0",modelName="NVIDIA H100 80GB HBM3",Hostname="gpu-node-1",DCGM_FI_DRIVER_VERSION="550.54.15",container="trainer",namespace="ml",pod="trainer-0"} 612.345
        DCGM_FI_DEV_POWER_USAGE{gpu="1",UUID="GPU-66666666-7777-8888-9999-000000000000",device="nvidia1",modelName="NVIDIA H100 80GB HBM3",Hostname="gpu-node-1",DCGM_FI_DRIVER_VERSION="550.54.15"} 140737488355328
        """;
}
