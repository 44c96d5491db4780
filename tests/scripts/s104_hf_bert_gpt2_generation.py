# Hugging Face transformers' modelling and generation code reduced to CPU size: BERT embeddings with position_ids/token_type_ids buffers (persistent=False), the extended attention mask with finfo.min, the MLM collator's masking, GPT-2's Conv1D (addmm), gelu_new, bool tril buffer with torch.where masking, past_key_values, _init_weights, resize_token_embeddings, and generation's logits processors (repetition penalty by gather/scatter, top-k, top-p) and beam search bookkeeping.
import math

import numpy as np
import torch
from torch import nn
from torch.nn import CrossEntropyLoss


class Config:
    vocab_size = 17
    hidden_size = 8
    num_attention_heads = 2
    intermediate_size = 16
    max_position_embeddings = 12
    type_vocab_size = 2
    layer_norm_eps = 1e-12
    initializer_range = 0.02
    pad_token_id = 0
    hidden_dropout_prob = 0.0
    attention_probs_dropout_prob = 0.0
    n_layer = 2


class BertEmbeddings(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.register_buffer(
            "position_ids", torch.arange(config.max_position_embeddings).expand((1, -1)), persistent=False)
        self.register_buffer(
            "token_type_ids", torch.zeros(self.position_ids.size(), dtype=torch.long), persistent=False)

    def forward(self, input_ids=None, token_type_ids=None, past_key_values_length=0):
        input_shape = input_ids.size()
        seq_length = input_shape[1]
        position_ids = self.position_ids[:, past_key_values_length: seq_length + past_key_values_length]
        if token_type_ids is None:
            buffered_token_type_ids = self.token_type_ids[:, :seq_length]
            token_type_ids = buffered_token_type_ids.expand(input_shape[0], seq_length)
        embeddings = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
        embeddings += self.position_embeddings(position_ids)
        embeddings = self.LayerNorm(embeddings)
        return self.dropout(embeddings)


class BertSelfAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.num_attention_heads = config.num_attention_heads
        self.attention_head_size = int(config.hidden_size / config.num_attention_heads)
        self.all_head_size = self.num_attention_heads * self.attention_head_size
        self.query = nn.Linear(config.hidden_size, self.all_head_size)
        self.key = nn.Linear(config.hidden_size, self.all_head_size)
        self.value = nn.Linear(config.hidden_size, self.all_head_size)
        self.dropout = nn.Dropout(config.attention_probs_dropout_prob)

    def transpose_for_scores(self, x):
        new_x_shape = x.size()[:-1] + (self.num_attention_heads, self.attention_head_size)
        x = x.view(new_x_shape)
        return x.permute(0, 2, 1, 3)

    def forward(self, hidden_states, attention_mask=None):
        query_layer = self.transpose_for_scores(self.query(hidden_states))
        key_layer = self.transpose_for_scores(self.key(hidden_states))
        value_layer = self.transpose_for_scores(self.value(hidden_states))
        attention_scores = torch.matmul(query_layer, key_layer.transpose(-1, -2))
        attention_scores = attention_scores / math.sqrt(self.attention_head_size)
        if attention_mask is not None:
            attention_scores = attention_scores + attention_mask
        attention_probs = nn.functional.softmax(attention_scores, dim=-1)
        attention_probs = self.dropout(attention_probs)
        context_layer = torch.matmul(attention_probs, value_layer)
        context_layer = context_layer.permute(0, 2, 1, 3).contiguous()
        new_context_layer_shape = context_layer.size()[:-2] + (self.all_head_size,)
        return context_layer.view(new_context_layer_shape), attention_probs


class BertForMaskedLM(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.embeddings = BertEmbeddings(config)
        self.attention = BertSelfAttention(config)
        self.output_dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.output_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.transform = nn.Linear(config.hidden_size, config.hidden_size)
        self.transform_act_fn = nn.functional.gelu
        self.transform_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.decoder = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.bias = nn.Parameter(torch.zeros(config.vocab_size))
        self.decoder.bias = self.bias
        self.pooler = nn.Linear(config.hidden_size, config.hidden_size)
        self.apply(self._init_weights)
        self.decoder.weight = self.embeddings.word_embeddings.weight

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            module.weight.data.normal_(mean=0.0, std=self.config.initializer_range)
            if module.bias is not None:
                module.bias.data.zero_()
        elif isinstance(module, nn.Embedding):
            module.weight.data.normal_(mean=0.0, std=self.config.initializer_range)
            if module.padding_idx is not None:
                module.weight.data[module.padding_idx].zero_()
        elif isinstance(module, nn.LayerNorm):
            module.bias.data.zero_()
            module.weight.data.fill_(1.0)

    def get_extended_attention_mask(self, attention_mask, dtype=torch.float32):
        extended_attention_mask = attention_mask[:, None, None, :]
        extended_attention_mask = extended_attention_mask.to(dtype=dtype)
        return (1.0 - extended_attention_mask) * torch.finfo(dtype).min

    def forward(self, input_ids, attention_mask, labels=None):
        ext = self.get_extended_attention_mask(attention_mask)
        h = self.embeddings(input_ids)
        a, probs = self.attention(h, ext)
        h = self.output_norm(self.output_dense(a) + h)
        pooled = torch.tanh(self.pooler(h[:, 0]))
        x = self.transform_norm(self.transform_act_fn(self.transform(h)))
        prediction_scores = self.decoder(x)
        loss = None
        if labels is not None:
            loss_fct = CrossEntropyLoss()
            loss = loss_fct(prediction_scores.view(-1, self.config.vocab_size), labels.view(-1))
        return loss, prediction_scores, pooled, probs


config = Config()
rng = np.random.RandomState(0)
bert = BertForMaskedLM(config)
print(bert.embeddings.word_embeddings.weight[0].abs().sum(), bert.decoder.bias is bert.bias)
print(sorted(k for k in bert.state_dict() if "ids" in k), "embeddings.position_ids" in dict(bert.named_buffers()))
print(len(bert.state_dict()), len(list(bert.named_parameters())),
      len(list(bert.named_parameters(remove_duplicate=False))))
with torch.no_grad():
    for n, p in bert.named_parameters():
        p.copy_(torch.from_numpy(rng.normal(0, 0.3, p.shape).astype(np.float32)))
input_ids = torch.from_numpy(rng.randint(3, config.vocab_size, (2, 6)))
attention_mask = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]])
input_ids[1, 4:] = config.pad_token_id
print(bert.get_extended_attention_mask(attention_mask)[1])

# DataCollatorForLanguageModeling.torch_mask_tokens: the bernoulli draws are compared by shape, the
# masks used for training come from numpy
labels = input_ids.clone()
probability_matrix = torch.full(labels.shape, 0.15)
special_tokens_mask = torch.tensor([[0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 1, 1]], dtype=torch.bool)
probability_matrix.masked_fill_(special_tokens_mask, value=0.0)
drawn = torch.bernoulli(probability_matrix).bool()
print(drawn.dtype, drawn.shape, drawn[special_tokens_mask].any())
masked_indices = torch.from_numpy(rng.uniform(size=labels.shape) < 0.4) & ~special_tokens_mask
labels[~masked_indices] = -100
indices_replaced = torch.from_numpy(rng.uniform(size=labels.shape) < 0.8) & masked_indices
inputs = input_ids.clone()
inputs[indices_replaced] = 1
indices_random = torch.from_numpy(rng.uniform(size=labels.shape) < 0.5) & masked_indices & ~indices_replaced
random_words = torch.randint(config.vocab_size, labels.shape, dtype=torch.long)
print(random_words.dtype, random_words.shape, bool((random_words < config.vocab_size).all()))
inputs[indices_random] = torch.from_numpy(rng.randint(0, config.vocab_size, labels.shape))[indices_random]
print(inputs, labels)

optimizer = torch.optim.AdamW(bert.parameters(), lr=5e-3, eps=1e-8)
scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / 2) * max(0.0, (3 - step) / 3))
for step in range(3):
    loss, scores, pooled, probs = bert(inputs, attention_mask, labels=labels)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(bert.parameters(), 1.0)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad()
    print(f"mlm step {step}: {loss.item():.5f} lr {scheduler.get_last_lr()[0]:.6f}", pooled.shape,
          probs[1, 0, 0, 4:].sum().item())

# resize_token_embeddings
old = bert.embeddings.word_embeddings
new = nn.Embedding(config.vocab_size + 3, config.hidden_size, padding_idx=0)
new.to(old.weight.device, dtype=old.weight.dtype)
new.weight.data.normal_(mean=0.0, std=0.02)
n = min(old.num_embeddings, new.num_embeddings)
new.weight.data[:n, :] = old.weight.data[:n, :]
bert.embeddings.word_embeddings = new
bert.decoder.weight = new.weight
bert.decoder.bias.data = nn.functional.pad(bert.decoder.bias.data, (0, new.weight.shape[0] - bert.decoder.bias.shape[0]),
                                           "constant", 0)
bert.decoder.out_features = new.num_embeddings
print(new, bert.decoder, torch.equal(new.weight[:n], old.weight), bert.decoder.bias.shape)


def gelu_new(input):
    return 0.5 * input * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (input + 0.044715 * torch.pow(input, 3.0))))


class Conv1D(nn.Module):
    def __init__(self, nf, nx):
        super().__init__()
        self.nf = nf
        self.weight = nn.Parameter(torch.empty(nx, nf))
        self.bias = nn.Parameter(torch.zeros(nf))
        nn.init.normal_(self.weight, std=0.02)

    def forward(self, x):
        size_out = x.size()[:-1] + (self.nf,)
        x = torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight)
        return x.view(size_out)


class GPT2Attention(nn.Module):
    def __init__(self, config):
        super().__init__()
        max_positions = config.max_position_embeddings
        self.register_buffer(
            "bias", torch.tril(torch.ones((max_positions, max_positions), dtype=torch.bool)).view(
                1, 1, max_positions, max_positions), persistent=False)
        self.register_buffer("masked_bias", torch.tensor(-1e4), persistent=False)
        self.embed_dim = config.hidden_size
        self.num_heads = config.num_attention_heads
        self.head_dim = self.embed_dim // self.num_heads
        self.split_size = self.embed_dim
        self.c_attn = Conv1D(3 * self.embed_dim, self.embed_dim)
        self.c_proj = Conv1D(self.embed_dim, self.embed_dim)

    def _attn(self, query, key, value, attention_mask=None):
        attn_weights = torch.matmul(query, key.transpose(-1, -2))
        attn_weights = attn_weights / torch.full(
            [], value.size(-1) ** 0.5, dtype=attn_weights.dtype, device=attn_weights.device)
        query_length, key_length = query.size(-2), key.size(-2)
        causal_mask = self.bias[:, :, key_length - query_length: key_length, :key_length]
        mask_value = torch.finfo(attn_weights.dtype).min
        mask_value = torch.full([], mask_value, dtype=attn_weights.dtype, device=attn_weights.device)
        attn_weights = torch.where(causal_mask, attn_weights.to(attn_weights.dtype), mask_value)
        if attention_mask is not None:
            attn_weights = attn_weights + attention_mask
        attn_weights = nn.functional.softmax(attn_weights, dim=-1)
        attn_weights = attn_weights.type(value.dtype)
        return torch.matmul(attn_weights, value), attn_weights

    def _split_heads(self, tensor, num_heads, attn_head_size):
        new_shape = tensor.size()[:-1] + (num_heads, attn_head_size)
        tensor = tensor.view(new_shape)
        return tensor.permute(0, 2, 1, 3)

    def _merge_heads(self, tensor, num_heads, attn_head_size):
        tensor = tensor.permute(0, 2, 1, 3).contiguous()
        new_shape = tensor.size()[:-2] + (num_heads * attn_head_size,)
        return tensor.view(new_shape)

    def forward(self, hidden_states, layer_past=None, attention_mask=None, use_cache=False):
        query, key, value = self.c_attn(hidden_states).split(self.split_size, dim=2)
        query = self._split_heads(query, self.num_heads, self.head_dim)
        key = self._split_heads(key, self.num_heads, self.head_dim)
        value = self._split_heads(value, self.num_heads, self.head_dim)
        if layer_past is not None:
            past_key, past_value = layer_past
            key = torch.cat((past_key, key), dim=-2)
            value = torch.cat((past_value, value), dim=-2)
        present = (key, value) if use_cache is True else None
        attn_output, attn_weights = self._attn(query, key, value, attention_mask)
        attn_output = self._merge_heads(attn_output, self.num_heads, self.head_dim)
        return self.c_proj(attn_output), present


class GPT2LMHeadModel(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.wte = nn.Embedding(config.vocab_size, config.hidden_size)
        self.wpe = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.h = nn.ModuleList([GPT2Attention(config) for _ in range(config.n_layer)])
        self.ln_f = nn.LayerNorm(config.hidden_size, eps=1e-5)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                p.data.normal_(mean=0.0, std=(config.initializer_range / math.sqrt(2 * config.n_layer)))

    def forward(self, input_ids, past_key_values=None, attention_mask=None, position_ids=None):
        if past_key_values is None:
            past_length = 0
            past_key_values = tuple([None] * len(self.h))
        else:
            past_length = past_key_values[0][0].size(-2)
        if position_ids is None:
            position_ids = torch.arange(past_length, input_ids.size(-1) + past_length, dtype=torch.long)
            position_ids = position_ids.unsqueeze(0)
        if attention_mask is not None:
            attention_mask = attention_mask[:, None, None, :].to(dtype=torch.float32)
            attention_mask = (1.0 - attention_mask) * torch.finfo(torch.float32).min
        hidden_states = self.wte(input_ids) + self.wpe(position_ids)
        presents = ()
        for block, layer_past in zip(self.h, past_key_values):
            out, present = block(hidden_states, layer_past=layer_past, attention_mask=attention_mask, use_cache=True)
            hidden_states = gelu_new(out) + hidden_states
            presents = presents + (present,)
        return self.lm_head(self.ln_f(hidden_states)), presents


gpt2 = GPT2LMHeadModel(config)
print(gpt2.h[0].bias.dtype, gpt2.h[0].masked_bias, sorted(gpt2.state_dict())[:3])
with torch.no_grad():
    for n, p in gpt2.named_parameters():
        p.copy_(torch.from_numpy(rng.normal(0, 0.4, p.shape).astype(np.float32)))
prompt = torch.from_numpy(rng.randint(1, config.vocab_size, (2, 3)))
full_logits, _ = gpt2(prompt)
logits, past = gpt2(prompt[:, :2])
step_logits, past = gpt2(prompt[:, 2:], past_key_values=past)
print(torch.allclose(step_logits[:, -1], full_logits[:, -1], atol=1e-5), past[0][0].shape)

# left-padded batch: position ids from the attention mask, as prepare_inputs_for_generation does
am = torch.tensor([[0, 1, 1], [1, 1, 1]])
position_ids = am.long().cumsum(-1) - 1
position_ids.masked_fill_(am == 0, 1)
padded_logits, _ = gpt2(prompt, attention_mask=am, position_ids=position_ids)
print(position_ids, padded_logits[1].sub(full_logits[1]).abs().max() < 1e-5)


def repetition_penalty(input_ids, scores, penalty=1.3):
    score = torch.gather(scores, 1, input_ids)
    score = torch.where(score < 0, score * penalty, score / penalty)
    return scores.scatter(1, input_ids, score)


def top_k_filter(scores, top_k, filter_value=-float("Inf")):
    top_k = min(top_k, scores.size(-1))
    indices_to_remove = scores < torch.topk(scores, top_k)[0][..., -1, None]
    return scores.masked_fill(indices_to_remove, filter_value)


def top_p_filter(scores, top_p, filter_value=-float("Inf"), min_tokens_to_keep=1):
    sorted_logits, sorted_indices = torch.sort(scores, descending=False)
    cumulative_probs = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
    sorted_indices_to_remove = cumulative_probs <= (1 - top_p)
    sorted_indices_to_remove[..., -min_tokens_to_keep:] = 0
    indices_to_remove = sorted_indices_to_remove.scatter(1, sorted_indices, sorted_indices_to_remove)
    return scores.masked_fill(indices_to_remove, filter_value)


eos_token_id, pad_token_id = 2, 0
input_ids = prompt.clone()
unfinished_sequences = torch.ones(input_ids.shape[0], dtype=torch.long)
with torch.no_grad():
    for _ in range(4):
        next_token_logits = gpt2(input_ids)[0][:, -1, :]
        scores = repetition_penalty(input_ids, next_token_logits)
        scores = top_k_filter(scores / 0.7, 5)
        scores = top_p_filter(scores, 0.9)
        probs = nn.functional.softmax(scores, dim=-1)
        sampled = torch.multinomial(probs, num_samples=1).squeeze(1)
        next_tokens = torch.argmax(scores, dim=-1)
        print(sampled.shape, sampled.dtype, bool(torch.isfinite(scores.gather(1, sampled[:, None])).all()),
              (scores == -float("inf")).sum(-1))
        next_tokens = next_tokens * unfinished_sequences + pad_token_id * (1 - unfinished_sequences)
        input_ids = torch.cat([input_ids, next_tokens[:, None]], dim=-1)
        unfinished_sequences = unfinished_sequences & ~(next_tokens == eos_token_id)
        if unfinished_sequences.max() == 0:
            break
print(input_ids, unfinished_sequences)

num_beams, batch_size, vocab_size = 3, 2, config.vocab_size
beam_scores = torch.zeros((batch_size, num_beams), dtype=torch.float)
beam_scores[:, 1:] = -1e9
beam_scores = beam_scores.view((batch_size * num_beams,))
beam_ids = prompt.repeat_interleave(num_beams, dim=0)
with torch.no_grad():
    for _ in range(2):
        next_token_scores = nn.functional.log_softmax(gpt2(beam_ids)[0][:, -1, :], dim=-1)
        next_token_scores = next_token_scores + beam_scores[:, None].expand_as(next_token_scores)
        next_token_scores = next_token_scores.view(batch_size, num_beams * vocab_size)
        next_token_scores, next_tokens = torch.topk(next_token_scores, 2 * num_beams, dim=1, largest=True, sorted=True)
        next_indices = torch.div(next_tokens, vocab_size, rounding_mode="floor")
        next_tokens = next_tokens % vocab_size
        beam_idx = (next_indices[:, :num_beams] + torch.arange(batch_size).unsqueeze(1) * num_beams).view(-1)
        beam_scores = next_token_scores[:, :num_beams].reshape(-1)
        beam_ids = torch.cat([beam_ids[beam_idx, :], next_tokens[:, :num_beams].reshape(-1, 1)], dim=-1)
print(beam_ids, beam_scores.view(batch_size, num_beams))
