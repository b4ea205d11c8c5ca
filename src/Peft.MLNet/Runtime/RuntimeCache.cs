using System.Collections.Concurrent;
using Peft.MLNet.Persistence;

namespace Peft.MLNet.Runtime;

/// <summary>
/// Live models by state id, so the mapping steps that run a saved model find it without parsing
/// the state again: a model fitted in this process is put here by its transformer; one loaded
/// with <c>Model.Load</c> is built from its state on first use and kept.
/// </summary>
internal static class RuntimeCache
{
    private static readonly ConcurrentDictionary<string, Lazy<object>> Live = new(StringComparer.Ordinal);

    /// <summary>Puts a live model under its state's id.</summary>
    public static void Put(string id, object runtime) => Live[id] = new Lazy<object>(runtime);

    /// <summary>The live model of <paramref name="state"/>, built by <paramref name="build"/> the first time (once, whatever the thread count).</summary>
    public static T GetOrBuild<T>(ReadOnlyMemory<char> state, Func<ModelState, T> build)
        where T : class
    {
        string id = ModelState.IdOf(state.Span);
        var entry = Live.GetOrAdd(id, _ => new Lazy<object>(() => build(ModelState.Parse(state.Span)), LazyThreadSafetyMode.ExecutionAndPublication));
        try
        {
            return (T)entry.Value;
        }
        catch
        {
            // A failed build (e.g. the base folder was missing) is retried on the next row.
            Live.TryRemove(new KeyValuePair<string, Lazy<object>>(id, entry));
            throw;
        }
    }

    /// <summary>Drops every live model (their memory is freed once no transformer holds them).</summary>
    public static void Clear() => Live.Clear();
}
