using System.Diagnostics;
using Peft.Cli.Data;
using Peft.Tensors;
using Peft.Tokenizers;
using Peft.Transformers.Generation;
using Peft.Transformers.Models;

namespace Peft.Cli.Commands;

/// <summary>
/// <c>peft generate --prompt/--input</c>: encodes each prompt with the model folder's
/// tokenizer.json, streams the decoded continuation to stdout as tokens arrive (characters split
/// over tokens come out whole; stop strings are cut), one output line per prompt. With stats,
/// load time, prompt processing (prefill: the prompt up to the first new token) and decoding (the
/// tokens after it) are timed separately and printed to stderr, llama.cpp style.
/// </summary>
internal sealed class TextGeneration
{
    private readonly LoadedModel _model;
    private readonly Settings _settings;
    private readonly CliContext _context;
    private readonly Tokenizer _tokenizer;
    private readonly GenerationStats _stats;

    public TextGeneration(LoadedModel model, Settings settings, CliContext context)
    {
        _model = model;
        _settings = settings;
        _context = context;
        if (model.Model.TaskType == ModelTask.SequenceClassification)
            throw new UsageException("generate: the adapter is a sequence classifier; it predicts labels (see peft eval), it does not generate text.");
        if (!File.Exists(Path.Combine(model.Folder, Tokenizer.FileName)))
            throw new UsageException($"generate: --model {model.Folder} has no {Tokenizer.FileName}; text generation needs the model's tokenizer.");
        _tokenizer = Tokenizer.Load(model.Folder);
        _stats = new GenerationStats(model.LoadTime);
    }

    /// <summary>The generation settings from the command line.</summary>
    public sealed record Settings
    {
        public int MaxNewTokens { get; init; }

        public bool DoSample { get; init; }

        public float Temperature { get; init; } = 1f;

        public int TopK { get; init; }

        public float TopP { get; init; } = 1f;

        public ulong Seed { get; init; }

        public IReadOnlyList<string> Stop { get; init; } = [];

        public bool UseCache { get; init; } = true;

        public int? TaskId { get; init; }

        public bool Stats { get; init; }
    }

    public int Run(string? prompt, string? inputFile)
    {
        if (prompt is not null) Generate(prompt, _settings.TaskId);
        else
        {
            foreach (var record in JsonlRecords.Read(inputFile!, ColumnMapping.None))
            {
                string field = new[] { "prompt", "text", "source" }.FirstOrDefault(record.Has)
                    ?? throw new UsageException($"{record.Location}: expected an object with a \"prompt\" (or \"text\") string.");
                Generate(record.String(field), record.OptionalInt("task_id") ?? _settings.TaskId);
            }
        }
        if (_settings.Stats) _stats.Print(_context.Error);
        return 0;
    }

    private void Generate(string prompt, int? taskId)
    {
        var ids = _tokenizer.Encode(prompt, addSpecialTokens: true).Ids;
        if (ids.Count == 0) throw new UsageException("generate: the prompt encodes to no tokens.");
        var config = _model.Model.BaseModel.Config;
        // With learned positions (GPT-2) generation stops at the last one instead of failing past it.
        int maxNewTokens;
        try
        {
            maxNewTokens = _model.Model.NewTokensThatFit(ids.Count, _settings.MaxNewTokens);
        }
        catch (ArgumentException ex)
        {
            throw new UsageException($"generate: {ex.Message}");
        }
        IReadOnlyList<int> eos = config.EosTokenIds.Count > 0 ? config.EosTokenIds : _tokenizer.EosTokenId is int e ? [e] : [];
        var options = new GenerationOptions
        {
            MaxNewTokens = maxNewTokens,
            EosTokenIds = eos,
            UseCache = _settings.UseCache,
            DoSample = _settings.DoSample,
            Temperature = _settings.Temperature,
            TopK = _settings.TopK,
            TopP = _settings.TopP,
            Seed = _settings.Seed,
            StopStrings = _settings.Stop.Count > 0 ? _settings.Stop : null,
            TextDecoder = generated => _tokenizer.Decode(generated, skipSpecialTokens: true),
        };
        if (taskId is null && _model.Model.NeedsTaskIds)
            throw new UsageException("generate: the adapter is multitask prompt tuning; give --task-id N (or \"task_id\" in each input line).");
        var tasks = taskId is int t ? IntTensor.FromArray([t], 1) : null;
        var decoder = _tokenizer.CreateStreamingDecoder(skipSpecialTokens: true);
        var filter = new StopTextFilter(_settings.Stop);
        var clock = Stopwatch.StartNew();
        var stream = _model.Model.StreamAsync(IntTensor.FromArray([.. ids], 1, ids.Count), null, options, tasks, _context.Cancellation)
            .GetAsyncEnumerator(_context.Cancellation);
        int produced = 0;
        TimeSpan firstToken = TimeSpan.Zero;
        try
        {
            // The console program has no synchronization context: waiting on each step here is plain blocking.
            while (stream.MoveNextAsync().AsTask().GetAwaiter().GetResult())
            {
                if (produced++ == 0) firstToken = clock.Elapsed;
                Write(filter.Add(decoder.Add(stream.Current)));
                if (filter.Stopped) break;
            }
        }
        finally
        {
            stream.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        var total = clock.Elapsed;
        Write(filter.Add(decoder.Flush()) + filter.Flush());
        _context.Out.WriteLine();
        _context.Out.Flush();
        // The first new token comes out of the prefill pass, so prompt processing is timed up to it
        // and decoding counts the tokens after it.
        _stats.Add(ids.Count, produced > 0 ? firstToken : total, Math.Max(0, produced - 1), produced > 0 ? total - firstToken : TimeSpan.Zero);
    }

    private void Write(string text)
    {
        if (text.Length == 0) return;
        _context.Out.Write(text);
        _context.Out.Flush();
    }
}
