# pytorch/examples differentiable_physics: a mass-spring simulation unrolled through autograd, with in-place force accumulation on views, pinned rows overwritten in place, Adam on initial positions.
import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim


class MassSpringSystem(nn.Module):
    def __init__(self, num_particles, springs, mass=1.0, dt=0.01, gravity=9.81, device="cpu"):
        super().__init__()
        self.device = device
        self.mass = mass
        self.springs = springs
        self.dt = dt
        self.gravity = gravity
        self.initial_position_0 = torch.tensor([0.0, 0.0], device=device)
        self.initial_positions_rest = nn.Parameter(torch.randn(num_particles - 1, 2, device=device))
        self.velocities = torch.zeros(num_particles, 2, device=device)

    def forward(self, steps):
        positions = torch.cat([self.initial_position_0.unsqueeze(0), self.initial_positions_rest], dim=0)
        velocities = self.velocities
        for _ in range(steps):
            forces = torch.zeros_like(positions)
            for (i, j, rest_length, stiffness) in self.springs:
                xi, xj = positions[i], positions[j]
                dir_vec = xj - xi
                dist = dir_vec.norm()
                force = stiffness * (dist - rest_length) * dir_vec / (dist + 1e-6)
                forces[i] += force
                forces[j] -= force
            forces[:, 1] -= self.gravity * self.mass
            acceleration = forces / self.mass
            velocities = velocities + acceleration * self.dt
            positions = positions + velocities * self.dt
            positions[0] = self.initial_position_0
            velocities[0] = torch.tensor([0.0, 0.0], device=positions.device)
        return positions


device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
springs = [(0, 1, 1.0, 10.0), (1, 2, 0.8, 6.0), (0, 2, 1.5, 4.0)]
system = MassSpringSystem(num_particles=3, springs=springs, device=device)
print(system.initial_positions_rest.shape, system.velocities.requires_grad, [n for n, _ in system.named_parameters()])
with torch.no_grad():
    system.initial_positions_rest.copy_(torch.tensor([[0.9, 0.2], [0.4, -1.1]]))
optimizer = optim.Adam(system.parameters(), lr=0.01)
target_positions = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.5, -1.0]], device=device)
for epoch in range(6):
    optimizer.zero_grad()
    final_positions = system(12)
    loss = (final_positions - target_positions).pow(2).mean()
    loss.backward()
    optimizer.step()
    if (epoch + 1) % 2 == 0:
        print(f"Epoch {epoch+1}/6, Loss: {loss.item():.6f}", final_positions.grad_fn.name())
print(system.initial_positions_rest.grad.round(decimals=5))
initial_positions = torch.cat([system.initial_position_0.unsqueeze(0), system.initial_positions_rest.detach()], dim=0).cpu().numpy()
print(np.round(initial_positions, 5), initial_positions.dtype)
print(f"Final positions:\n{np.round(final_positions.detach().cpu().numpy(), 5)}")
with torch.no_grad():
    print(system(5).round(decimals=5), system(0).requires_grad)
p0 = torch.tensor([[0.9, 0.2], [0.4, -1.1]], dtype=torch.float64, requires_grad=True)


def simulate(rest):
    positions = torch.cat([torch.zeros(1, 2, dtype=rest.dtype), rest], dim=0)
    velocities = torch.zeros(3, 2, dtype=rest.dtype)
    for _ in range(4):
        forces = torch.zeros_like(positions)
        for (i, j, rest_length, stiffness) in springs:
            dir_vec = positions[j] - positions[i]
            dist = dir_vec.norm()
            force = stiffness * (dist - rest_length) * dir_vec / (dist + 1e-6)
            forces[i] += force
            forces[j] -= force
        forces[:, 1] -= 9.81
        velocities = velocities + forces * 0.01
        positions = positions + velocities * 0.01
        positions[0] = torch.zeros(2, dtype=rest.dtype)
        velocities[0] = torch.tensor([0.0, 0.0], dtype=rest.dtype)
    return positions


print(torch.autograd.gradcheck(simulate, (p0,)))
x = torch.ones(3, requires_grad=True) * 2
y = x * x
try:
    x[0] = 5.0
    y.backward(torch.ones(3))
except RuntimeError as e:
    print(type(e).__name__, str(e).split(";")[0])
