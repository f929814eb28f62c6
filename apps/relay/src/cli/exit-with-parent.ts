/** `node --import` this module into a child process and it ends itself when its parent dies (even by kill -9). */
export const EXIT_WITH_PARENT = import.meta.resolve('@konbini/contracts/exit-with-parent')
