"""The course's output-size formula W_out = (W - F + 2P)/S + 1 with the numbers filled in, and, when a
combination does not fit, why and what would: "(28 - 5 + 0)/2 + 1 = 12.5: no whole number of steps; use
S=1, or F=4 or F=6". With dilation D the kernel covers D(F - 1) + 1 cells, which takes F's place.

(The inspector's explorer.inspect.arithmetic applies the same formula to the layers of a real network;
this module explains a playground's or a design's choice before anything runs.)"""

from __future__ import annotations

from dataclasses import dataclass


def _n(v: int) -> str:
    return str(v).replace("-", "−")


def _n_float(v: float) -> str:
    """12.5, 2.67, 55: whole numbers as they are, else at most two decimals."""
    text = str(int(v)) if v == int(v) else f"{v:.2f}".rstrip("0").rstrip(".")
    return text.replace("-", "−")


@dataclass(frozen=True)
class SizeFit:
    """W_out = (W - F + 2P)/S + 1 for one spatial dimension."""

    w: int
    f: int
    p: int = 0
    s: int = 1
    d: int = 1

    @property
    def span(self) -> int:
        """Cells the (dilated) kernel covers: D(F - 1) + 1."""
        return self.d * (self.f - 1) + 1

    @property
    def numerator(self) -> int:
        """W - F + 2P (with the dilated span for F)."""
        return self.w - self.span + 2 * self.p

    @property
    def exact(self) -> float:
        """(W - F + 2P)/S + 1 before rounding."""
        return self.numerator / self.s + 1

    @property
    def fits(self) -> bool:
        """A whole number of steps and at least one position."""
        return self.numerator >= 0 and self.numerator % self.s == 0

    @property
    def out(self) -> int:
        """What PyTorch computes: floor((W - F + 2P)/S) + 1 (0 when the kernel does not fit at all)."""
        return self.numerator // self.s + 1 if self.numerator >= 0 else 0

    def formula(self, name: str = "W", pool: bool = False) -> str:
        """The course's way of writing it: 'W_out = (28 − 5 + 2(2))/1 + 1 = 28'; a pooling layer without
        padding as 'W_out = (28 − 2)/2 + 1 = 14'. A dilated kernel's span stands in F's place."""
        pad = "" if pool and self.p == 0 else f" + 2({self.p})"
        return f"{name}_out = ({_n(self.w)} − {self.span}{pad})/{self.s} + 1 = {_n_float(self.exact)}"

    def problem(self) -> str | None:
        """Why the combination does not fit and what would, or None when it fits."""
        if self.s < 1 or self.f < 1 or self.d < 1 or self.p < 0 or self.w < 1:
            return "sizes must be whole numbers: W, F, S, D at least 1 and P at least 0"
        core = f"({_n(self.w)} − {self.span} + {2 * self.p})/{self.s} + 1 = {_n_float(self.exact)}"
        if self.numerator < 0:
            need = (self.span - self.w + 1) // 2
            return (f"{core}: the kernel ({self.span} cells) is larger than the padded input "
                    f"({self.w + 2 * self.p} cells); use a kernel of at most {self.w + 2 * self.p} cells or P={need}")
        if self.fits:
            return None
        return f"{core}: no whole number of steps; {self._advice()}. PyTorch floors it to {self.out}: the last " \
               f"{self.numerator % self.s} row(s)/column(s) of the padded input are never covered"

    def advice(self, max_p: int | None = None) -> str:
        """What would fit instead ("use P=1 or S=1, or F=4"), for a combination that does not (paddings up to
        max_p: a pooling window takes at most half its size)."""
        return self._advice(max_p)

    def _advice(self, max_p: int | None = None) -> str:
        ps = [p for p in range(0, (self.f if max_p is None else max_p) + 1) if p != self.p and (self.w - self.span + 2 * p) >= 0
              and (self.w - self.span + 2 * p) % self.s == 0]
        ss = [s for s in range(1, max(self.s, 4) + 1) if s != self.s and self.numerator % s == 0]
        fs = [f for f in sorted(range(1, self.f + 3), key=lambda f: (abs(f - self.f), f)) if f != self.f
              and (self.w - (self.d * (f - 1) + 1) + 2 * self.p) >= 0
              and (self.w - (self.d * (f - 1) + 1) + 2 * self.p) % self.s == 0][:2]
        parts = []
        if ps:
            parts.append(f"P={min(ps, key=lambda p: abs(p - self.p))}")
        if ss:
            parts.append(f"S={max(s for s in ss if s < self.s) if any(s < self.s for s in ss) else ss[0]}")
        advice = "use " + " or ".join(parts) if parts else "use"
        if fs:
            advice += (", or " if parts else " ") + " or ".join(f"F={f}" for f in sorted(fs))
        if not ps and self.s % 2 == 0:
            advice += (f" (padding cannot help: 2P is even and {self.w} − {self.span} = {self.w - self.span} is odd; "
                       "one extra row/column on one side only, as TensorFlow's 'same' padding adds, would fit)")
        return advice
