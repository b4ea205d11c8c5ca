using System.Text.Json;
using System.Text.Json.Nodes;

namespace Peft.Cli.Data;

/// <summary>Reads a JSONL file: one JSON object per line; blank lines are skipped; mapped fields are renamed.</summary>
public static class JsonlRecords
{
    /// <summary>The file's rows; a line that is not a JSON object is a usage error naming file:line and the problem.</summary>
    public static IEnumerable<DataRecord> Read(string path, ColumnMapping columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        int number = 0;
        foreach (string line in File.ReadLines(path))
        {
            number++;
            if (line.AsSpan().Trim().IsEmpty) continue;
            var at = new DataLocation(path, number);
            JsonNode? node;
            try
            {
                node = Peft.Shared.StrictJson.Parse(line);
            }
            catch (JsonException ex)
            {
                // The parser's own position suffix counts from 0 and names the whole file's line; the column here is the line's.
                string what = ex.Message.Split(" Path:")[0].Split(" LineNumber:")[0].TrimEnd('.');
                throw new UsageException($"{at}: not valid JSON at column {(ex.BytePositionInLine ?? 0) + 1}: {what}.");
            }
            catch (InvalidOperationException ex)
            {
                throw new UsageException($"{at}: a key is not text ({ex.Message}).");
            }
            // A lone surrogate in a \u escape would otherwise fail wherever the field is first read.
            if (Peft.Shared.StrictJson.UnreadableString(node) is { } unreadable)
                throw new UsageException($"{at}: a string is not text ({unreadable}).");
            if (node is not JsonObject obj)
                throw new UsageException($"{at}: expected a JSON object like {{\"prompt\": ..., \"completion\": ...}}; " +
                    $"got {(node is null ? "null" : DataRecord.Describe(node))}.");
            foreach (var (field, column) in columns.FieldToColumn)
            {
                if (!obj.ContainsKey(column)) throw new UsageException($"{at}: no field '{column}' (mapped to {field} by --columns).");
                var value = obj[column];
                obj.Remove(column);
                obj[field] = value?.DeepClone();
            }
            yield return new DataRecord(obj, at);
        }
    }
}
