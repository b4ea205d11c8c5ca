using System.Text.Json;
using Peft.Tensors;
using Peft.Transformers.Configuration;
using Peft.Tuners.Adapters;

namespace Peft.Tuners.MultitaskPromptTuning;

/// <summary>
/// Multitask prompt tuning: a shared prompt [virtual, hidden] modulated per task by a rank-r
/// product, prompt_t = prompt ⊙ (cols[t] · rows[t]) with cols [tasks, virtual, r] and rows
/// [tasks, r, hidden]; each batch row picks its task by id. PEFT's keys: <c>prompt_embeddings</c>,
/// <c>prefix_task_cols</c>, <c>prefix_task_rows</c>.
/// </summary>
public sealed class MultitaskPromptTuningAdapter
{
    private MultitaskPromptTuningAdapter(int virtualTokens, int tasks, int ranks, Tensor prompt, Tensor cols, Tensor rows)
    {
        NumVirtualTokens = virtualTokens;
        NumTasks = tasks;
        NumRanks = ranks;
        Prompt = prompt;
        TaskCols = cols;
        TaskRows = rows;
    }

    /// <summary>Virtual tokens per row.</summary>
    public int NumVirtualTokens { get; }

    /// <summary>Number of tasks.</summary>
    public int NumTasks { get; }

    /// <summary>Rank of each task's modulation.</summary>
    public int NumRanks { get; }

    /// <summary>The shared prompt [virtual, hidden].</summary>
    public Tensor Prompt { get; }

    /// <summary>Per-task column factors [tasks, virtual, ranks].</summary>
    public Tensor TaskCols { get; }

    /// <summary>Per-task row factors [tasks, ranks, hidden].</summary>
    public Tensor TaskRows { get; }

    /// <summary>The trainable tensors.</summary>
    public IEnumerable<Tensor> Parameters => [Prompt, TaskCols, TaskRows];

    /// <summary>Creates a fresh adapter: prompt N(0, 1), factors N(0, 0.02²) as PEFT initializes them.</summary>
    public static MultitaskPromptTuningAdapter Create(ModelConfig model, int virtualTokens, int tasks, int ranks = 1, ulong seed = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (virtualTokens <= 0 || tasks <= 0 || ranks <= 0)
            throw new AdapterConfigException($"Multitask prompt tuning config: 'num_virtual_tokens', 'num_tasks' and 'num_ranks' must be positive; got {virtualTokens}, {tasks}, {ranks}.");
        var random = new SeededRandom(seed);
        int d = model.HiddenSize;
        return new MultitaskPromptTuningAdapter(virtualTokens, tasks, ranks,
            TensorInit.Normal(new Shape(virtualTokens, d), 0, 1, random, "prompt_embeddings"),
            TensorInit.Normal(new Shape(tasks, virtualTokens, ranks), 0, 0.02f, random, "prefix_task_cols"),
            TensorInit.Normal(new Shape(tasks, ranks, d), 0, 0.02f, random, "prefix_task_rows"));
    }

    /// <summary>Loads PEFT's MULTITASK_PROMPT_TUNING adapter folder.</summary>
    public static MultitaskPromptTuningAdapter Load(string folder, ModelConfig model)
    {
        int virtualTokens, tasks, ranks;
        using (var doc = AdapterFiles.ReadConfig(folder, "MULTITASK_PROMPT_TUNING"))
        {
            var root = doc.RootElement;
            static int Required(JsonElement r, string name) => r.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number
                ? v.GetInt32() : throw new AdapterConfigException($"Multitask prompt tuning config: '{name}' is required.");
            virtualTokens = Required(root, "num_virtual_tokens");
            tasks = Required(root, "num_tasks");
            ranks = root.TryGetProperty("num_ranks", out var r) && r.ValueKind == JsonValueKind.Number ? r.GetInt32() : 1;
            if (root.TryGetProperty("token_dim", out var td) && td.ValueKind == JsonValueKind.Number && td.GetInt32() != model.HiddenSize)
                throw new AdapterConfigException($"Multitask prompt tuning config: 'token_dim' is {td.GetInt32()} but the model has {model.HiddenSize}.");
        }
        var adapter = Create(model, virtualTokens, tasks, ranks);
        AdapterFiles.ReadWeights(folder, adapter.Parameters);
        return adapter;
    }

    /// <summary>Per-row virtual tokens [batch, virtual, hidden] for the given task ids (differentiable).</summary>
    public Tensor VirtualTokens(IntTensor taskIds)
    {
        ArgumentNullException.ThrowIfNull(taskIds);
        if (taskIds.Shape.Rank != 1) throw new ArgumentException($"task_ids must be [batch]; got {taskIds.Shape}.", nameof(taskIds));
        taskIds.CheckRange("task_ids", NumTasks);
        int batch = taskIds.Length, v = NumVirtualTokens, r = NumRanks, d = Prompt.Shape[1];
        var cols = Ops.Reshape(Ops.Embedding(taskIds, Ops.Reshape(TaskCols, NumTasks, v * r)), batch, v, r);
        var rows = Ops.Reshape(Ops.Embedding(taskIds, Ops.Reshape(TaskRows, NumTasks, r * d)), batch, r, d);
        return Ops.Multiply(Ops.MatMul(cols, rows), Prompt);
    }
}
