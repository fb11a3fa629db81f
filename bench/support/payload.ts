/** A product as an API would cache it: about 1 KB of JSON, with a Date and nested arrays. */
export interface BenchProduct {
  id: number;
  name: string;
  description: string;
  price: number;
  updatedAt: Date;
  tags: string[];
  variants: { sku: string; stock: number; dimensions: number[] }[];
}

export function makeProduct(id: number): BenchProduct {
  return {
    id,
    name: `Product ${id}`,
    description: 'A sturdy, well-made thing that people keep asking about. '.repeat(5),
    price: 1999,
    updatedAt: new Date('2024-05-01T12:00:00Z'),
    tags: ['outdoor', 'summer', 'bestseller', 'eco'],
    variants: Array.from({ length: 10 }, (_, i) => ({ sku: `SKU-${id}-${i}`, stock: 10 * i, dimensions: [10 + i, 20 + i, 30 + i] })),
  };
}
