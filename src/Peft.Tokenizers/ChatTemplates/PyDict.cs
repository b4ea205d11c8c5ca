namespace Peft.Tokenizers.ChatTemplates;

/// <summary>A Python dict: insertion-ordered, keys compared with Python equality (so 1, 1.0 and True are one key).</summary>
internal sealed class PyDict
{
    private readonly List<object?> _keys = [];
    private readonly List<object?> _values = [];
    private readonly Dictionary<HashKey, int> _index = [];

    public int Count => _keys.Count;

    public IReadOnlyList<object?> Keys => _keys;

    public IReadOnlyList<object?> Values => _values;

    public IEnumerable<KeyValuePair<object?, object?>> Items
    {
        get
        {
            for (int i = 0; i < _keys.Count; i++) yield return new(_keys[i], _values[i]);
        }
    }

    public bool TryGetValue(object? key, out object? value)
    {
        if (IsHashable(key) && _index.TryGetValue(new HashKey(key), out int i))
        {
            value = _values[i];
            return true;
        }
        value = null;
        return false;
    }

    public bool ContainsKey(object? key) => TryGetValue(key, out _);

    public void Set(object? key, object? value)
    {
        if (!IsHashable(key)) throw new ChatTemplateException($"unhashable type: '{PyOps.TypeName(key)}'");
        var hashKey = new HashKey(key);
        if (_index.TryGetValue(hashKey, out int i)) _values[i] = value;
        else
        {
            _index[hashKey] = _keys.Count;
            _keys.Add(key);
            _values.Add(value);
        }
    }

    public static bool IsHashable(object? key) => key is not (List<object?> or PyDict) && (key is not PyTuple t || t.Items.All(IsHashable));

    // Wraps a key so Dictionary uses Python equality and a hash consistent with it.
    private readonly struct HashKey(object? key) : IEquatable<HashKey>
    {
        private readonly object? _key = key;

        public bool Equals(HashKey other) => PyOps.Equal(_key, other._key);

        public override bool Equals(object? obj) => obj is HashKey other && Equals(other);

        public override int GetHashCode() => PyOps.Hash(_key);
    }
}
