# pytorch/examples reinforcement_learning/actor_critic: two heads, Categorical, smooth_l1_loss, returns normalised with float32 eps, SavedAction namedtuple.
from collections import namedtuple
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.distributions import Categorical

SavedAction = namedtuple('SavedAction', ['log_prob', 'value'])
gamma = 0.99
eps = np.finfo(np.float32).eps.item()
print(eps, type(eps).__name__)


class Policy(nn.Module):
    def __init__(self):
        super(Policy, self).__init__()
        self.affine1 = nn.Linear(4, 16)
        self.action_head = nn.Linear(16, 2)
        self.value_head = nn.Linear(16, 1)
        self.saved_actions = []
        self.rewards = []

    def forward(self, x):
        x = F.relu(self.affine1(x))
        action_prob = F.softmax(self.action_head(x), dim=-1)
        state_values = self.value_head(x)
        return action_prob, state_values


rng = np.random.RandomState(3)
model = Policy()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.4, 0.4, p.shape).astype(np.float32)))
optimizer = optim.Adam(model.parameters(), lr=3e-2)
states = rng.randn(8, 4).astype(np.float32)
fixed_actions = rng.randint(0, 2, 8)


def select_action(state, step):
    state = torch.from_numpy(state).float()
    probs, state_value = model(state)
    m = Categorical(probs)
    sampled = m.sample()
    # the sampled action is random: keep its shape and dtype, then use a fixed action
    assert sampled.shape == () and sampled.dtype == torch.int64
    action = torch.tensor(fixed_actions[step])
    model.saved_actions.append(SavedAction(m.log_prob(action), state_value))
    return action.item()


def finish_episode():
    R = 0
    saved_actions = model.saved_actions
    policy_losses = []
    value_losses = []
    returns = []
    for r in model.rewards[::-1]:
        R = r + gamma * R
        returns.insert(0, R)
    returns = torch.tensor(returns)
    returns = (returns - returns.mean()) / (returns.std() + eps)
    for (log_prob, value), R in zip(saved_actions, returns):
        advantage = R - value.item()
        policy_losses.append(-log_prob * advantage)
        value_losses.append(F.smooth_l1_loss(value, torch.tensor([R])))
    optimizer.zero_grad()
    loss = torch.stack(policy_losses).sum() + torch.stack(value_losses).sum()
    loss.backward()
    optimizer.step()
    del model.rewards[:]
    del model.saved_actions[:]
    return loss, returns


running_reward = 10
for i_episode in range(3):
    ep_reward = 0
    for t in range(8):
        action = select_action(states[t], t)
        reward = 1.0 if action == int(states[t, 0] > 0) else 0.0
        model.rewards.append(reward)
        ep_reward += reward
    running_reward = 0.05 * ep_reward + (1 - 0.05) * running_reward
    loss, returns = finish_episode()
    print('Episode {}\tLast reward: {:.2f}\tAverage reward: {:.2f}'.format(i_episode, ep_reward, running_reward))
    print(f"{loss.item():.5f}", returns.round(decimals=4), returns.dtype, loss.grad_fn.name())
probs, value = model(torch.from_numpy(states[:3]))
print(probs.detach().round(decimals=4), value.detach().round(decimals=4))
m = Categorical(probs)
print(m.log_prob(torch.tensor([0, 1, 1])).detach().round(decimals=4), m.entropy().detach().round(decimals=4), m.sample().shape)
a = torch.tensor([0.0, 0.5, 1.0, 3.0], requires_grad=True)
b = torch.zeros(4)
for kwargs in ({}, {"beta": 0.5}, {"reduction": "none"}, {"reduction": "sum", "beta": 2.0}, {"beta": 0.0}):
    print(kwargs, F.smooth_l1_loss(a, b, **kwargs))
print(nn.SmoothL1Loss(beta=0.5), nn.HuberLoss(delta=2.0), F.huber_loss(a, b, delta=2.0))
x = torch.randn(5, dtype=torch.float64, requires_grad=True)
y = torch.randn(5, dtype=torch.float64)
print(torch.autograd.gradcheck(lambda v: F.smooth_l1_loss(v, y, beta=0.7), (x,)))
print(torch.autograd.gradcheck(lambda v: F.huber_loss(v, y, reduction='sum', delta=0.3), (x,)))
print(torch.autograd.gradcheck(lambda v: F.smooth_l1_loss(y, v, beta=0.7), (x,)))
print(F.smooth_l1_loss(x, y).grad_fn.name(), F.huber_loss(x, y).grad_fn.name())
print(np.finfo(np.float32).eps, torch.finfo(torch.float32).eps, torch.finfo(torch.float32).eps == eps)
try:
    F.smooth_l1_loss(a, b, beta=-1.0)
except RuntimeError as e:
    print(type(e).__name__, e)
