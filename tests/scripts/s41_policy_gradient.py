# REINFORCE-style policy gradient with torch.distributions on fixed observations and rewards.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Categorical, Normal, Bernoulli

rng = np.random.RandomState(8)
policy = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
with torch.no_grad():
    for p in policy.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.3, 0.3, p.shape).astype(np.float32)))
optimizer = torch.optim.Adam(policy.parameters(), lr=1e-2)
states = torch.from_numpy(rng.randn(10, 4).astype(np.float32))
actions = torch.from_numpy(rng.randint(0, 2, 10))
rewards = [1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0]
gamma = 0.99
returns = []
R = 0.0
for r in reversed(rewards):
    R = r + gamma * R
    returns.insert(0, R)
returns = torch.tensor(returns)
returns = (returns - returns.mean()) / (returns.std() + 1e-8)
print(returns.round(decimals=4))
for it in range(5):
    probs = F.softmax(policy(states), dim=-1)
    m = Categorical(probs)
    log_probs = m.log_prob(actions)
    loss = -(log_probs * returns).sum()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    print(it, f"{loss.item():.4f}", f"{m.entropy().mean().item():.4f}")
m = Categorical(logits=torch.tensor([0.0, 1.0, 2.0]))
print(m.probs, m.logits, m.entropy(), m.log_prob(torch.tensor(2)), m.sample().shape, m.sample((3,)).shape)
print(m, m.batch_shape, m.event_shape)
n = Normal(torch.tensor([0.0, 1.0]), torch.tensor([1.0, 2.0]))
print(n.log_prob(torch.tensor([0.5, 0.5])), n.entropy(), n.mean, n.stddev, n.variance, n.rsample().shape, n.cdf(torch.tensor([0.0, 1.0])))
b = Bernoulli(probs=torch.tensor([0.3]))
print(b.log_prob(torch.tensor([1.0])), b.entropy(), b.mean)
mu = torch.tensor([0.5], requires_grad=True)
d = Normal(mu, torch.tensor([1.0]))
d.log_prob(torch.tensor([1.0])).sum().backward()
print(mu.grad)
