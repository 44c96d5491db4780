# A sparse mixture-of-experts layer as in Mixtral / Switch-style reference code (router logits, softmax + topk, renormalised weights, F.one_hot expert mask permuted, torch.where per expert, index_add_, the switch load-balancing loss) and LoRA adapters as in loralib/peft (frozen base nn.Linear, kaiming_uniform_(a=math.sqrt(5)), zero-initialised B, scaling, merge/unmerge into the weight, mark_only_lora_as_trainable, state_dict filtering).
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Expert(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.w1 = nn.Linear(dim, hidden, bias=False)
        self.w2 = nn.Linear(hidden, dim, bias=False)
        self.w3 = nn.Linear(dim, hidden, bias=False)

    def forward(self, hidden_states):
        return self.w2(F.silu(self.w1(hidden_states)) * self.w3(hidden_states))


class SparseMoeBlock(nn.Module):
    def __init__(self, hidden_dim, ffn_dim, num_experts, top_k):
        super().__init__()
        self.hidden_dim = hidden_dim
        self.num_experts = num_experts
        self.top_k = top_k
        self.gate = nn.Linear(hidden_dim, num_experts, bias=False)
        self.experts = nn.ModuleList([Expert(hidden_dim, ffn_dim) for _ in range(num_experts)])

    def forward(self, hidden_states):
        batch_size, sequence_length, hidden_dim = hidden_states.shape
        hidden_states = hidden_states.view(-1, hidden_dim)
        router_logits = self.gate(hidden_states)
        routing_weights = F.softmax(router_logits, dim=1, dtype=torch.float)
        routing_weights, selected_experts = torch.topk(routing_weights, self.top_k, dim=-1)
        routing_weights /= routing_weights.sum(dim=-1, keepdim=True)
        routing_weights = routing_weights.to(hidden_states.dtype)
        final_hidden_states = torch.zeros(
            (batch_size * sequence_length, hidden_dim), dtype=hidden_states.dtype, device=hidden_states.device)
        expert_mask = torch.nn.functional.one_hot(selected_experts, num_classes=self.num_experts).permute(2, 1, 0)
        for expert_idx in range(self.num_experts):
            expert_layer = self.experts[expert_idx]
            idx, top_x = torch.where(expert_mask[expert_idx])
            current_state = hidden_states[None, top_x].reshape(-1, hidden_dim)
            current_hidden_states = expert_layer(current_state) * routing_weights[top_x, idx, None]
            final_hidden_states.index_add_(0, top_x, current_hidden_states.to(hidden_states.dtype))
        final_hidden_states = final_hidden_states.reshape(batch_size, sequence_length, hidden_dim)
        return final_hidden_states, router_logits


def load_balancing_loss_func(gate_logits, num_experts, top_k=2):
    concatenated_gate_logits = torch.cat([layer_gate for layer_gate in gate_logits], dim=0)
    routing_weights = torch.nn.functional.softmax(concatenated_gate_logits, dim=-1)
    _, selected_experts = torch.topk(routing_weights, top_k, dim=-1)
    expert_mask = torch.nn.functional.one_hot(selected_experts, num_experts)
    tokens_per_expert = torch.mean(expert_mask.float(), dim=0)
    router_prob_per_expert = torch.mean(routing_weights, dim=0)
    overall_loss = torch.sum(tokens_per_expert * router_prob_per_expert.unsqueeze(0))
    return overall_loss * num_experts


def router_z_loss(router_logits):
    num_groups, tokens_per_group, _ = router_logits.shape
    log_z = torch.logsumexp(router_logits, dim=-1)
    z_loss = log_z ** 2
    return torch.sum(z_loss) / (num_groups * tokens_per_group)


rng = np.random.RandomState(0)
moe = SparseMoeBlock(hidden_dim=6, ffn_dim=8, num_experts=4, top_k=2)
with torch.no_grad():
    for p in moe.parameters():
        p.copy_(torch.from_numpy(rng.normal(0, 0.5, p.shape).astype(np.float32)))
opt = torch.optim.AdamW(moe.parameters(), lr=1e-2)
x = torch.from_numpy(rng.normal(size=(2, 5, 6)).astype(np.float32))
target = torch.from_numpy(rng.normal(size=(2, 5, 6)).astype(np.float32))
for step in range(3):
    out, router_logits = moe(x)
    aux = load_balancing_loss_func((router_logits,), 4, 2)
    z = router_z_loss(router_logits.view(2, 5, 4))
    loss = F.mse_loss(out, target) + 0.01 * aux + 0.001 * z
    opt.zero_grad()
    loss.backward()
    opt.step()
    print(f"step {step}: loss {loss.item():.5f} aux {aux.item():.5f} z {z.item():.5f}")
print([e.w1.weight.grad is None for e in moe.experts], moe.gate.weight.grad.shape)
gates = F.softmax(router_logits, dim=-1)
top_vals, top_idx = gates.topk(2, dim=-1, sorted=True)
dispatch = torch.zeros_like(gates).scatter(1, top_idx, top_vals)
print(dispatch.detach().numpy().round(4)[:3], top_idx[:3])
by_expert = torch.index_select(x.view(-1, 6), 0, top_idx[:, 0])
print(by_expert.shape, torch.bincount(top_idx.flatten(), minlength=4))
capacity = math.ceil(10 * 2 / 4 * 1.25)
positions = torch.cumsum(F.one_hot(top_idx[:, 0], 4), dim=0) * F.one_hot(top_idx[:, 0], 4)
print(capacity, (positions.max(dim=1).values <= capacity).all(), positions.sum(0))


class LoRALinear(nn.Linear):
    def __init__(self, in_features, out_features, r=0, lora_alpha=1, lora_dropout=0., fan_in_fan_out=False,
                 merge_weights=True, **kwargs):
        nn.Linear.__init__(self, in_features, out_features, **kwargs)
        self.r = r
        self.lora_alpha = lora_alpha
        self.lora_dropout = nn.Dropout(p=lora_dropout) if lora_dropout > 0. else (lambda x: x)
        self.merged = False
        self.merge_weights = merge_weights
        self.fan_in_fan_out = fan_in_fan_out
        if r > 0:
            self.lora_A = nn.Parameter(self.weight.new_zeros((r, in_features)))
            self.lora_B = nn.Parameter(self.weight.new_zeros((out_features, r)))
            self.scaling = self.lora_alpha / self.r
            self.weight.requires_grad = False
        self.reset_parameters()
        if fan_in_fan_out:
            self.weight.data = self.weight.data.transpose(0, 1)

    def reset_parameters(self):
        nn.Linear.reset_parameters(self)
        if hasattr(self, 'lora_A'):
            nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
            nn.init.zeros_(self.lora_B)

    def train(self, mode: bool = True):
        def T(w):
            return w.transpose(0, 1) if self.fan_in_fan_out else w
        nn.Linear.train(self, mode)
        if mode:
            if self.merge_weights and self.merged:
                if self.r > 0:
                    self.weight.data -= T(self.lora_B @ self.lora_A) * self.scaling
                self.merged = False
        else:
            if self.merge_weights and not self.merged:
                if self.r > 0:
                    self.weight.data += T(self.lora_B @ self.lora_A) * self.scaling
                self.merged = True
        return self

    def forward(self, x: torch.Tensor):
        def T(w):
            return w.transpose(0, 1) if self.fan_in_fan_out else w
        if self.r > 0 and not self.merged:
            result = F.linear(x, T(self.weight), bias=self.bias)
            result += (self.lora_dropout(x) @ self.lora_A.transpose(0, 1) @ self.lora_B.transpose(0, 1)) * self.scaling
            return result
        else:
            return F.linear(x, T(self.weight), bias=self.bias)


def mark_only_lora_as_trainable(model: nn.Module, bias: str = 'none') -> None:
    for n, p in model.named_parameters():
        if 'lora_' not in n:
            p.requires_grad = False
    if bias == 'none':
        return
    elif bias == 'all':
        for n, p in model.named_parameters():
            if 'bias' in n:
                p.requires_grad = True
    else:
        raise NotImplementedError


def lora_state_dict(model: nn.Module, bias: str = 'none'):
    my_state_dict = model.state_dict()
    if bias == 'none':
        return {k: my_state_dict[k] for k in my_state_dict if 'lora_' in k}
    return {k: my_state_dict[k] for k in my_state_dict if 'lora_' in k or 'bias' in k}


model = nn.Sequential(LoRALinear(6, 8, r=2, lora_alpha=4), nn.GELU(approximate='tanh'),
                      LoRALinear(8, 3, r=2, lora_alpha=4, fan_in_fan_out=True))
print(model[0].lora_A.abs().max() <= 1 / math.sqrt(6), model[0].lora_B.abs().sum(), model[2].weight.shape)
with torch.no_grad():
    for name, p in model.named_parameters():
        p.copy_(torch.from_numpy(rng.normal(0, 0.3, p.shape).astype(np.float32)))
    model[0].lora_B.zero_()
mark_only_lora_as_trainable(model, bias='all')
print([(n, p.requires_grad) for n, p in model.named_parameters()])
trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
total = sum(p.numel() for p in model.parameters())
print(f"trainable params: {trainable} || all params: {total} || trainable%: {100 * trainable / total:.4f}")
opt = torch.optim.AdamW(filter(lambda p: p.requires_grad, model.parameters()), lr=1e-2)
xin = torch.from_numpy(rng.normal(size=(4, 6)).astype(np.float32))
yt = torch.from_numpy(rng.normal(size=(4, 3)).astype(np.float32))
base_before = model[0].weight.clone()
for step in range(3):
    loss = F.mse_loss(model(xin), yt)
    opt.zero_grad()
    loss.backward()
    opt.step()
    print(f"lora step {step}: {loss.item():.5f}", model[0].weight.grad is None, model[0].lora_B.grad.abs().sum() > 0)
print(torch.equal(model[0].weight, base_before))
model.train()
y_unmerged = model(xin)
model.eval()
y_merged = model(xin)
print(model[0].merged, torch.allclose(y_unmerged, y_merged, atol=1e-5), torch.equal(model[0].weight, base_before))
model.train()
print(model[0].merged, torch.allclose(model[0].weight, base_before, atol=1e-6))
sd = lora_state_dict(model)
print(sorted(sd), sd['0.lora_A'].shape)
missing, unexpected = model.load_state_dict(sd, strict=False)
print(len(missing), unexpected)
