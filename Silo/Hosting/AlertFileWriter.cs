using System.Text.Json;
using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Silo.Hosting;

/// <summary>Appends committed findings to <c>alerts.jsonl</c> in the data folder, one JSON object per line.</summary>
internal sealed class AlertFileWriter : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly FileStream _stream;

    public AlertFileWriter(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        _stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
        FilePath = path;
    }

    public string FilePath { get; }

    public async ValueTask WriteAsync(IReadOnlyList<Finding> findings)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            foreach (var f in findings)
            {
                await JsonSerializer.SerializeAsync(_stream, f, Serialization.AnomalyJsonContext.Default.Finding).ConfigureAwait(false);
                _stream.WriteByte((byte)'\n');
            }

            await _stream.FlushAsync().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        _stream.Dispose();
        _gate.Dispose();
    }
}
