"""``python -m custlens.app``: start the web app (what ``custlens app`` runs)."""

from custlens.app.launch import main

if __name__ == "__main__":
    main()
