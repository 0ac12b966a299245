import os

# The ratings maths works on many small matrices and runs its own threads over chunks of
# bootstrap rounds; a multi-threaded BLAS on top oversubscribes the cores and, on a busy
# machine, makes a 300×300 inverse a hundred times slower. OpenBLAS reads this when numpy
# is first imported, which in Rival's processes happens after the apps are loaded.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
