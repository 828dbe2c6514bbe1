/** The fixed list the search demo filters on the server. */
export const FRUITS: readonly string[] = [
  'Apple', 'Apricot', 'Avocado', 'Banana', 'Blackberry', 'Blueberry', 'Cherry', 'Clementine', 'Coconut',
  'Cranberry', 'Date', 'Dragonfruit', 'Fig', 'Grape', 'Grapefruit', 'Guava', 'Kiwi', 'Lemon', 'Lime',
  'Lychee', 'Mango', 'Melon', 'Nectarine', 'Orange', 'Papaya', 'Passionfruit', 'Peach', 'Pear',
  'Pineapple', 'Plum', 'Pomegranate', 'Raspberry', 'Strawberry', 'Tangerine', 'Watermelon',
];

export function searchFruits(query: string): string[] {
  const q = query.trim().toLowerCase();
  return q ? FRUITS.filter((f) => f.toLowerCase().includes(q)) : [...FRUITS];
}
