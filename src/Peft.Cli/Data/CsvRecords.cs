using System.Text;
using System.Text.Json.Nodes;

namespace Peft.Cli.Data;

/// <summary>
/// Reads CSV or TSV with RFC 4180 quoting (fields in double quotes may hold separators, line
/// breaks and doubled quotes); the first row names the columns.
/// </summary>
public static class CsvRecords
{
    /// <summary>The file's rows as fields named by <paramref name="columns"/> (or by the header).</summary>
    public static IEnumerable<DataRecord> Read(string path, char separator, ColumnMapping columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        using var reader = new StreamReader(path, Encoding.UTF8);
        var parser = new Parser(reader, separator, path);
        var header = parser.Next();
        if (header is null) yield break;
        var names = header.Value.Fields;
        // Each field a format reads comes from its mapped column; other columns keep their names.
        var fieldOfColumn = names.Select(n => n).ToArray();
        foreach (var (field, column) in columns.FieldToColumn)
        {
            int index = Array.IndexOf(names, column);
            if (index < 0)
                throw new UsageException($"{path}: no column '{column}' (mapped to {field} by --columns); the columns are {string.Join(", ", names.Select(n => $"'{n}'"))}.");
            fieldOfColumn[index] = field;
        }
        while (parser.Next() is { } row)
        {
            var at = new DataLocation(path, row.Line);
            if (row.Fields is [""]) continue;
            if (row.Fields.Length != names.Length)
                throw new UsageException($"{at}: {row.Fields.Length} fields but the header has {names.Length} ({string.Join(", ", names)}).");
            var obj = new JsonObject();
            for (int i = 0; i < names.Length; i++)
            {
                // A column that has a mapped field's name gives way to the mapped column.
                if (fieldOfColumn[i] == names[i] && columns.FieldToColumn.TryGetValue(names[i], out var source) && source != names[i]) continue;
                obj[fieldOfColumn[i]] = row.Fields[i];
            }
            yield return new DataRecord(obj, at);
        }
    }

    /// <summary>RFC 4180 record splitter over a reader, tracking line numbers.</summary>
    private sealed class Parser(TextReader reader, char separator, string path)
    {
        private int _line = 1;

        public (string[] Fields, int Line)? Next()
        {
            if (reader.Peek() < 0) return null;
            int start = _line;
            var fields = new List<string>();
            var field = new StringBuilder();
            bool quoted = false, wasQuoted = false;
            while (true)
            {
                int c = reader.Read();
                if (c < 0)
                {
                    if (quoted) throw new UsageException($"{path}:{start}: a quoted field is not closed before the end of the file.");
                    break;
                }
                if (quoted)
                {
                    if (c == '"')
                    {
                        if (reader.Peek() == '"') { reader.Read(); field.Append('"'); }
                        else quoted = false;
                    }
                    else
                    {
                        if (c == '\n') _line++;
                        field.Append((char)c);
                    }
                    continue;
                }
                if (c == '"' && field.Length == 0 && !wasQuoted) { quoted = wasQuoted = true; continue; }
                if (c == separator) { fields.Add(field.ToString()); field.Clear(); wasQuoted = false; continue; }
                if (c == '\r' && reader.Peek() == '\n') continue;
                if (c == '\n') { _line++; break; }
                if (wasQuoted) throw new UsageException($"{path}:{_line}: text after a closing quote in field {fields.Count + 1}; double a quote inside a quoted field (\"\").");
                field.Append((char)c);
            }
            fields.Add(field.ToString());
            return ([.. fields], start);
        }
    }
}
