using System.Data.Common;
using System.Text.Json;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.Serialization;
using AnomalyZT.Silo.Siem;

namespace AnomalyZT.Silo.State;

/// <summary>The JSON documents every state store keeps: findings, response actions and SIEM records, written and read
/// with the source-generated <see cref="AnomalyJsonContext"/>, so both stores hold the same text.</summary>
internal static class StoreJson
{
    /// <summary>The stored document of a finding.</summary>
    internal static string Serialize(Finding finding) => JsonSerializer.Serialize(finding, AnomalyJsonContext.Default.Finding);

    /// <summary>The stored documents of <paramref name="findings"/>, in order (done before a store takes a writer).</summary>
    internal static string[] Serialize(IReadOnlyList<Finding> findings)
    {
        var json = new string[findings.Count];
        for (var i = 0; i < json.Length; i++)
        {
            json[i] = Serialize(findings[i]);
        }

        return json;
    }

    /// <summary>The stored document of a response action.</summary>
    internal static string Serialize(ResponseAction action) => JsonSerializer.Serialize(action, AnomalyJsonContext.Default.ResponseAction);

    /// <summary>The stored document of a SIEM record.</summary>
    internal static string Serialize(SiemRecord record) => JsonSerializer.Serialize(record, AnomalyJsonContext.Default.SiemRecord);

    /// <summary>The finding of a findings row whose first column is its JSON and third its id; <paramref name="readText"/>
    /// reads a text column the way the store wrote it.</summary>
    /// <exception cref="InvalidDataException">The document is JSON null.</exception>
    internal static Finding Finding<TReader>(TReader reader, Func<TReader, int, string> readText)
        where TReader : DbDataReader =>
        JsonSerializer.Deserialize(reader.GetString(0), AnomalyJsonContext.Default.Finding)
        ?? throw new InvalidDataException($"The findings row '{readText(reader, 2)}' holds JSON null.");

    /// <summary>The response action of a stored document.</summary>
    /// <exception cref="InvalidDataException">The document is JSON null.</exception>
    internal static ResponseAction Action(string json) =>
        JsonSerializer.Deserialize(json, AnomalyJsonContext.Default.ResponseAction)
        ?? throw new InvalidDataException("a stored response action is empty");

    /// <summary>The SIEM record of a stored document.</summary>
    /// <exception cref="InvalidDataException">The document is JSON null.</exception>
    internal static SiemRecord Record(string json) =>
        JsonSerializer.Deserialize(json, AnomalyJsonContext.Default.SiemRecord)
        ?? throw new InvalidDataException("a stored SIEM record is empty");
}
