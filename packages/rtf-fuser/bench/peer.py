"""PyTorch peer of the bench: the released fuser (BatchNorm, bn-gamma exchange, pre-LN block with the
diagonal attention mask, final LayerNorm, mean of 2 tokens) at the same size, timed the same way.
Prints one markdown table, or exits non-zero when torch is absent."""
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

B, T, C = (int(a) for a in sys.argv[1:4])
H = 8


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(C), nn.LayerNorm(C)
        self.qkv = nn.Linear(C, 3 * C, bias=False)
        self.proj = nn.Linear(C, C)
        self.mlp = nn.Sequential(nn.Linear(C, 4 * C), nn.GELU(), nn.Linear(4 * C, C))

    def forward(self, x, mask):
        n, l, _ = x.shape
        q, k, v = self.qkv(self.norm1(x)).reshape(n, l, 3, H, C // H).permute(2, 0, 3, 1, 4)
        att = ((q @ k.transpose(-2, -1)) * (C // H) ** -0.5 + mask).softmax(-1)
        x = x + self.proj((att @ v).transpose(1, 2).reshape(n, l, C))
        return x + self.mlp(self.norm2(x))


class Fuser(nn.Module):
    def __init__(self):
        super().__init__()
        self.alpha = nn.Parameter(torch.rand(1, 1, C))
        self.bn_rgb, self.bn_depth = nn.BatchNorm1d(C), nn.BatchNorm1d(C)
        self.block, self.norm = Block(), nn.LayerNorm(C)
        self.drop = nn.Dropout(0.1)
        self.register_buffer('mask', torch.tensor([[float('-inf'), 0.0], [0.0, float('-inf')]]))

    def forward(self, x, y):
        x = self.bn_rgb(x.transpose(1, 2)).transpose(1, 2)
        y = self.bn_depth(y.transpose(1, 2)).transpose(1, 2)
        k = int(C * 0.1)
        sx = torch.topk(self.bn_rgb.weight.abs(), k, largest=False).indices
        sy = torch.topk(self.bn_depth.weight.abs(), k, largest=False).indices
        ex, ey = x.clone(), y.clone()
        a = self.alpha[..., sx]
        ex[..., sx] = a * x[..., sx] + (1 - a) * y[..., sx]
        a = self.alpha[..., sy]
        ey[..., sy] = a * y[..., sy] + (1 - a) * x[..., sy]
        tokens = self.drop(torch.stack([ex, ey], 2).reshape(B * T, 2, C))
        return self.norm(self.block(tokens, self.mask)).mean(1).reshape(B, T, C)


def timed(n, fn):
    fn()
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1000


torch.manual_seed(0)
fuser = Fuser().train()
x = torch.randn(B, T, C, requires_grad=True)
y = torch.randn(B, T, C, requires_grad=True)
with torch.no_grad():
    fwd = timed(20, lambda: fuser(x, y))


def step():
    fuser.zero_grad()
    x.grad = y.grad = None
    fuser(x, y).pow(2).mean().backward()


both = timed(20, step)
print(f'PyTorch {torch.__version__} CPU, {torch.get_num_threads()} thread(s), released fuser (bn-gamma, 0.1)')
print('| fuser | forward ms | forward+backward ms |')
print('|---|---|---|')
print(f'| rtf (bn-gamma, 0.1) | {fwd:.1f} | {both:.1f} |')
