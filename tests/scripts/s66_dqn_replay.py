# The DQN tutorial's update: replay memory of Transition namedtuples, non-final mask, gather of Q(s,a), max(1).values targets, SmoothL1Loss, clip_grad_value_, AdamW(amsgrad), soft target update through state dicts.
import math
import random
from collections import namedtuple, deque
import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim

Transition = namedtuple('Transition', ('state', 'action', 'next_state', 'reward'))


class ReplayMemory(object):
    def __init__(self, capacity):
        self.memory = deque([], maxlen=capacity)

    def push(self, *args):
        """Save a transition"""
        self.memory.append(Transition(*args))

    def sample(self, batch_size):
        return random.sample(self.memory, batch_size)

    def __len__(self):
        return len(self.memory)


class DQN(nn.Module):
    def __init__(self, n_observations, n_actions):
        super(DQN, self).__init__()
        self.layer1 = nn.Linear(n_observations, 16)
        self.layer2 = nn.Linear(16, 16)
        self.layer3 = nn.Linear(16, n_actions)

    def forward(self, x):
        x = torch.relu(self.layer1(x))
        x = torch.relu(self.layer2(x))
        return self.layer3(x)


BATCH_SIZE, GAMMA, EPS_START, EPS_END, EPS_DECAY, TAU, LR = 6, 0.99, 0.9, 0.05, 1000, 0.005, 1e-3
n_actions, n_observations = 2, 4
rng = np.random.RandomState(41)
policy_net = DQN(n_observations, n_actions)
target_net = DQN(n_observations, n_actions)
with torch.no_grad():
    for p in policy_net.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.5, 0.5, p.shape).astype(np.float32)))
target_net.load_state_dict(policy_net.state_dict())
optimizer = optim.AdamW(policy_net.parameters(), lr=LR, amsgrad=True)
print(optimizer.defaults['amsgrad'], optimizer.defaults['weight_decay'])
memory = ReplayMemory(100)
random.seed(3)
steps_done = 0


def select_action(state):
    global steps_done
    sample = 0.95
    eps_threshold = EPS_END + (EPS_START - EPS_END) * math.exp(-1. * steps_done / EPS_DECAY)
    steps_done += 1
    if sample > eps_threshold:
        with torch.no_grad():
            return policy_net(state).max(1).indices.view(1, 1)
    return torch.tensor([[0]], dtype=torch.long)


def optimize_model():
    if len(memory) < BATCH_SIZE:
        return None
    transitions = list(memory.memory)[-BATCH_SIZE:]
    batch = Transition(*zip(*transitions))
    non_final_mask = torch.tensor(tuple(map(lambda s: s is not None, batch.next_state)), dtype=torch.bool)
    non_final_next_states = torch.cat([s for s in batch.next_state if s is not None])
    state_batch = torch.cat(batch.state)
    action_batch = torch.cat(batch.action)
    reward_batch = torch.cat(batch.reward)
    state_action_values = policy_net(state_batch).gather(1, action_batch)
    next_state_values = torch.zeros(BATCH_SIZE)
    with torch.no_grad():
        next_state_values[non_final_mask] = target_net(non_final_next_states).max(1).values
    expected_state_action_values = (next_state_values * GAMMA) + reward_batch
    criterion = nn.SmoothL1Loss()
    loss = criterion(state_action_values, expected_state_action_values.unsqueeze(1))
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_value_(policy_net.parameters(), 100)
    optimizer.step()
    return loss, non_final_mask, state_action_values


observations = rng.randn(12, n_observations).astype(np.float32)
state = torch.tensor(observations[0], dtype=torch.float32).unsqueeze(0)
for t in range(1, 12):
    action = select_action(state)
    reward = torch.tensor([float(observations[t, 0] > 0)])
    terminated = t % 5 == 0
    next_state = None if terminated else torch.tensor(observations[t], dtype=torch.float32).unsqueeze(0)
    memory.push(state, action, next_state, reward)
    state = next_state if next_state is not None else torch.tensor(observations[t], dtype=torch.float32).unsqueeze(0)
    result = optimize_model()
    target_net_state_dict = target_net.state_dict()
    policy_net_state_dict = policy_net.state_dict()
    for key in policy_net_state_dict:
        target_net_state_dict[key] = policy_net_state_dict[key] * TAU + target_net_state_dict[key] * (1 - TAU)
    target_net.load_state_dict(target_net_state_dict)
    if result is not None:
        loss, mask, sav = result
        print(t, action.tolist(), action.dtype, f"{loss.item():.6f}", mask.tolist(), sav.shape)
print(len(memory), len(memory.sample(3)), type(memory.sample(1)[0]).__name__)
print(target_net.layer3.bias.detach().round(decimals=5), policy_net.layer3.bias.detach().round(decimals=5))
g = torch.tensor([[-300.0, 5.0], [150.0, -0.5]], requires_grad=True)
(g * 1.0).sum().backward()
g.grad.mul_(torch.tensor([[200.0, 1.0], [1.0, -200.0]]))
torch.nn.utils.clip_grad_value_([g], clip_value=100)
print(g.grad)
q = torch.tensor([[1.0, 3.0], [2.0, -1.0], [0.5, 0.5]])
print(q.max(1), q.max(1).indices.view(-1, 1), q.gather(1, torch.tensor([[1], [0], [1]])))
