// Lets every pending microtask and delivery of the loopback network run (deliveries without delay use the microtask queue).
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
