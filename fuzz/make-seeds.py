#!/usr/bin/env python3
"""Writes the seed corpora of every fuzz target (fuzz/corpora/<target>/seed-*) from ../shared/fixtures.

Seeds are small (afl works best under a few KB): tokenizer.json files are cut to their first few hundred
vocabulary entries (merges kept where all three tokens survive). Run again after the fixtures change;
afl-cmin then keeps what adds coverage (fuzz/run.sh minimizes after each run).
"""
import base64, glob, json, os, sys

root = os.path.dirname(os.path.abspath(__file__))
fixtures = os.path.normpath(os.path.join(root, "..", "..", "shared", "fixtures"))
corpora = os.path.join(root, "corpora")


def write(target, name, data):
    folder = os.path.join(corpora, target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(folder, "seed-" + name), "wb") as f:
        f.write(data)


def read(path, mode="rb"):
    with open(path, mode) as f:
        return f.read()


hf = os.path.join(fixtures, "hf")
cases = sorted(d for d in os.listdir(hf) if os.path.isdir(os.path.join(hf, d)))

# safetensors: every adapter's weights, and the trainable states.
for case in cases:
    for path in glob.glob(os.path.join(hf, case, "adapter", "*.safetensors")) + glob.glob(os.path.join(hf, case, "trainable_state.safetensors")):
        data = read(path)
        if len(data) <= 20000:
            write("safetensors", f"{case}-{os.path.basename(path)}", data)

# config.json of each base; adapter folders as config, NUL, weights.
for case in cases:
    config = os.path.join(hf, case, "base", "config.json")
    if os.path.exists(config):
        write("config", f"{case}.json", read(config))
    adapter = os.path.join(hf, case, "adapter")
    if os.path.isdir(adapter):
        config_text = read(os.path.join(adapter, "adapter_config.json"))
        weights = read(os.path.join(adapter, "adapter_model.safetensors"))
        write("adapter", f"{case}-config-only.json", config_text)
        if len(weights) <= 20000:
            write("adapter", f"{case}.bin", config_text + b"\0" + weights)


def shrink(tokenizer, keep=300):
    model = tokenizer["model"]
    if model["type"] in ("BPE", "WordPiece", "WordLevel"):
        vocab = {t: i for t, i in model["vocab"].items() if i < keep}
        model["vocab"] = vocab
        if "merges" in model:
            kept = []
            for m in model["merges"]:
                left, right = m.split(" ", 1) if isinstance(m, str) else m
                if left in vocab and right in vocab and left + right in vocab:
                    kept.append(m)
            model["merges"] = kept
    elif model["type"] == "Unigram":
        model["vocab"] = model["vocab"][:keep]
        if model.get("unk_id") is not None and model["unk_id"] >= keep:
            model["unk_id"] = 0
    tokenizer["added_tokens"] = tokenizer.get("added_tokens", [])[:8]
    return tokenizer


for name in sorted(os.listdir(os.path.join(fixtures, "tokenizers"))):
    folder = os.path.join(fixtures, "tokenizers", name)
    path = os.path.join(folder, "tokenizer.json")
    if not os.path.exists(path):
        continue
    small = shrink(json.loads(read(path, "r")))
    write("tokenizer-json", f"{name}.json", json.dumps(small, ensure_ascii=False, separators=(",", ":")))
    write("tokenizer-json", f"{name}-with-text.bin", json.dumps(small, ensure_ascii=False, separators=(",", ":")).encode() +
          b"\0" + "Hello  world!\n\tcafe\u0301 1234 <s> </s> <|endoftext|> \u00e9\u4e2d".encode())
    config = os.path.join(folder, "tokenizer_config.json")
    if os.path.exists(config):
        write("tokenizer-config", f"{name}.json", read(config))

# Chat templates: each template with one conversation of its cases.
templates = json.loads(read(os.path.join(fixtures, "chat_templates", "templates.json"), "r"))
case_list = json.loads(read(os.path.join(fixtures, "chat_templates", "cases.json"), "r"))
seen = set()
for case in case_list:
    if case["template_name"] in seen:
        continue
    seen.add(case["template_name"])
    messages = case.get("messages") or case.get("inputs", {}).get("messages") or []
    write("chat-template", case["template_name"] + ".bin", case["template"].encode() + b"\0" + json.dumps(messages).encode())
for name, template in templates.items():
    if name not in seen:
        write("chat-template", name + ".jinja", template)
    write("tokenizer-config", f"template-{name}.json", json.dumps({"chat_template": template, "bos_token": "<s>", "eos_token": "</s>"}))

# Data files: each format the CLI reads.
write("jsonl", "completion.jsonl", '{"prompt": "colour of sky? ", "completion": "blue."}\n{"prompt": "2+2=", "completion": "4"}\n')
write("jsonl", "text.jsonl", '{"text": "one line"}\n\n{"text": "two \\u00e9 \\ud83c\\udf55"}\n')
write("jsonl", "labeled.jsonl", '{"text": "great film", "label": "positive"}\n{"text": "dull", "label": 0}\n')
write("jsonl", "source-target.jsonl", '{"source": "translate: hi", "target": "salut"}\n')
write("jsonl", "messages.jsonl", '{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}\n')
write("csv", "completion.csv", 'prompt,completion\n"colour of sky? ","blue."\n"a, ""quoted"" one",b\n')
write("csv", "labeled.csv", 'text,label\ngreat film,positive\n"multi\nline",negative\n')
write("csv", "text.csv", 'text\r\nfirst\r\nsecond\r\n')

# ML.NET state strings: a generator and a classifier around fixture adapters.
settings = {"max_length": 128, "max_new_tokens": 8, "do_sample": False, "temperature": 1.0, "top_k": 50, "top_p": 1.0,
            "repetition_penalty": 1.0, "seed": 0, "use_cache": True, "use_static_cache": False, "eos_token_ids": None,
            "pad_token_id": None, "stop_strings": None}
for case in ("gpt2_lora", "gpt2_prompt_tuning", "gpt2_prefix_tuning", "gpt2_ia3"):
    adapter = os.path.join(hf, case, "adapter")
    state = {"task": "text-generation", "base_model": {"folder": "/models/base", "sha256": "0" * 64}, "quantization": "None",
             "settings": settings, "adapter_config": json.loads(read(os.path.join(adapter, "adapter_config.json"), "r")),
             "adapter_model_safetensors": base64.b64encode(read(os.path.join(adapter, "adapter_model.safetensors"))).decode(),
             "columns": {"prompt": "Prompt", "completion": "Completion", "output": "GeneratedText", "task_id": None}}
    write("mlnet-state", case + ".txt", "peft-mlnet/1 0123abcd\n" + json.dumps(state, separators=(",", ":")))
state["task"] = "text-classification"
state["settings"] = {"class_names": ["negative", "positive"], "max_length": 64, "pair": False, "binary": True}
del state["columns"]
write("mlnet-state", "classifier.txt", "peft-mlnet/1 4567ef\n" + json.dumps(state, separators=(",", ":")))
print("seeds written under", corpora)
