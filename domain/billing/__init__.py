"""Billing: tiered prices (阶梯水价) and the bills they produce."""
